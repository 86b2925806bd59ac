// /api/v1/quarantine and /api/v1/reports (docs/api.md).
#include "api/detail/await.hpp"
#include "api/detail/route_helpers.hpp"
#include "api/json_node.hpp"
#include "api/routes.hpp"

namespace kith::api {
using boost::asio::awaitable;
using detail::await;
using detail::bad;
using detail::from;

void add_safety_routes(Router& router, RouteContext ctx) {
  app::Node& node = ctx.node;

  router.add("GET", "/api/v1/quarantine", [&node](Request req) -> awaitable<Response> {
    auto it = req.query.find("all");
    bool all = it != req.query.end() && (it->second == "true" || it->second == "1");
    auto start = [&](auto done) { node.release().quarantine_list(all, std::move(done)); };
    auto items = co_await await<Result<std::vector<app::QuarantineItem>>>(std::move(start));
    co_return from(items, [](const std::vector<app::QuarantineItem>& list) {
      auto out = nlohmann::json::array();
      for (const auto& q : list) out.push_back(to_json(q));
      return out;
    });
  });
  router.add("GET", "/api/v1/quarantine/{id}", [&node](Request req) -> awaitable<Response> {
    auto start = [&](auto done) { node.quarantine_show(req.params.at("id"), std::move(done)); };
    auto item = co_await await<Result<app::QuarantineItem>>(std::move(start));
    co_return from(item, [](const app::QuarantineItem& q) { return to_json(q); });
  });
  // Release and delete go through the node: a download's item to the ReleasePipeline, a file folder
  // sync held back to the sync service (app/node_sync.cpp).
  router.add("POST", "/api/v1/quarantine/{id}/release", [&node](Request req) -> awaitable<Response> {
    auto start = [&](auto done) { node.quarantine_release(req.params.at("id"), std::move(done)); };
    co_return from(co_await await<Status>(std::move(start)));
  });
  router.add("DELETE", "/api/v1/quarantine/{id}", [&node](Request req) -> awaitable<Response> {
    auto start = [&](auto done) { node.quarantine_delete(req.params.at("id"), std::move(done)); };
    co_return from(co_await await<Status>(std::move(start)));
  });

  router.add("GET", "/api/v1/reports", [&node](Request) -> awaitable<Response> {
    auto start = [&](auto done) { node.reports().list(std::move(done)); };
    auto list = co_await await<std::vector<app::ListedReport>>(std::move(start));
    auto out = nlohmann::json::array();
    for (const auto& r : list) out.push_back(to_json(r));
    co_return Response{200, out, {}};
  });
  router.add("POST", "/api/v1/reports", [&node](Request req) -> awaitable<Response> {
    auto body = req.json_body();
    if (!body) co_return bad(body.error());
    if (!body->is_object()) co_return Response::error(400, "bad_request", "body must be a JSON object");
    auto id = detail::field<std::string>(*body, "id", "");
    auto reason = detail::field<std::string>(*body, "reason", "");
    if (!id) co_return bad(id.error());
    if (!reason) co_return bad(reason.error());
    if (id->empty() || reason->empty())
      co_return Response::error(400, "bad_request",
                                "'id' (quarantine item or transfer) and 'reason' are required");
    auto start = [&](auto done) { node.reports().report(*id, *reason, std::move(done)); };
    auto written = co_await await<Result<app::ReportWritten>>(std::move(start));
    co_return from(
        written,
        [](const app::ReportWritten& w) {
          return nlohmann::json{{"path", w.path}, {"report", safety::to_json(w.report)}};
        },
        201);
  });
}

}  // namespace kith::api
