// /api/v1/id, /contacts, /messages and /groups (docs/api.md § Contacts and messages).
#include "api/detail/await.hpp"
#include "api/detail/route_helpers.hpp"
#include "api/json_node.hpp"
#include "api/routes.hpp"

namespace kith::api {
namespace {

using detail::bad;
using detail::from;

// Runs `body` with the node's messenger, or answers 503 when the node runs without messaging.
template <class F>
Response with_messenger(app::Node& node, F&& body) {
  auto m = node.require_messenger();
  if (!m) return Response::error(503, m.error());
  return body(**m);
}

Result<nlohmann::json> object_body(const Request& req) {
  auto body = req.json_body();
  if (!body) return body;
  if (!body->is_object())
    return fail(base::make_error_code(base::errc::bad_input), "body must be a JSON object");
  return body;
}

// A required, non-empty string field.
Result<std::string> required(const nlohmann::json& body, const char* name) {
  auto v = detail::field<std::string>(body, name, "");
  if (!v) return v;
  if (v->empty())
    return fail(base::make_error_code(base::errc::bad_input), std::string("'") + name + "' is required");
  return v;
}

int int_query(const Request& req, const char* name, int fallback) {
  auto it = req.query.find(name);
  if (it == req.query.end()) return fallback;
  try {
    return std::stoi(it->second);
  } catch (const std::exception&) {
    return fallback;
  }
}

std::string query(const Request& req, const char* name) {
  auto it = req.query.find(name);
  return it == req.query.end() ? "" : it->second;
}

}  // namespace

void add_messaging_routes(Router& router, RouteContext ctx) {
  app::Node& node = ctx.node;
  using messaging::Messenger;

  router.add("GET", "/api/v1/id", sync([&node](const Request&) {
               return Response{200, to_json(node.identity()), {}};
             }));

  router.add("GET", "/api/v1/contacts", sync([&node](const Request&) {
               return with_messenger(node, [](Messenger& m) { return Response{200, m.contacts(), {}}; });
             }));
  router.add("POST", "/api/v1/contacts", sync([&node](const Request& req) {
               return with_messenger(node, [&](Messenger& m) {
                 auto body = object_body(req);
                 if (!body) return bad(body.error());
                 auto invite = required(*body, "invite");
                 auto name = detail::field<std::string>(*body, "name", "");
                 auto note = detail::field<std::string>(*body, "message", "");
                 if (!invite) return bad(invite.error());
                 if (!name) return bad(name.error());
                 if (!note) return bad(note.error());
                 return from(m.add_contact(*invite, *name, *note), 201);
               });
             }));
  router.add("GET", "/api/v1/contacts/requests", sync([&node](const Request&) {
               return with_messenger(node, [](Messenger& m) { return Response{200, m.requests(), {}}; });
             }));
  router.add("GET", "/api/v1/contacts/{who}", sync([&node](const Request& req) {
               return with_messenger(node,
                                     [&](Messenger& m) { return from(m.contact(req.params.at("who"))); });
             }));
  router.add("POST", "/api/v1/contacts/{who}/accept", sync([&node](const Request& req) {
               return with_messenger(node,
                                     [&](Messenger& m) { return from(m.accept(req.params.at("who"))); });
             }));
  router.add("POST", "/api/v1/contacts/{who}/decline", sync([&node](const Request& req) {
               return with_messenger(node,
                                     [&](Messenger& m) { return from(m.decline(req.params.at("who"))); });
             }));
  router.add("POST", "/api/v1/contacts/{who}/block", sync([&node](const Request& req) {
               return with_messenger(node, [&](Messenger& m) { return from(m.block(req.params.at("who"))); });
             }));
  router.add("DELETE", "/api/v1/contacts/{who}", sync([&node](const Request& req) {
               return with_messenger(node,
                                     [&](Messenger& m) { return from(m.remove(req.params.at("who"))); });
             }));
  router.add("PUT", "/api/v1/contacts/{who}/name", sync([&node](const Request& req) {
               return with_messenger(node, [&](Messenger& m) {
                 auto body = object_body(req);
                 if (!body) return bad(body.error());
                 auto name = required(*body, "name");
                 if (!name) return bad(name.error());
                 return from(m.rename(req.params.at("who"), *name));
               });
             }));
  router.add("POST", "/api/v1/contacts/{who}/addresses", sync([&node](const Request& req) {
               return with_messenger(node, [&](Messenger& m) {
                 auto body = object_body(req);
                 if (!body) return bad(body.error());
                 auto address = required(*body, "address");
                 if (!address) return bad(address.error());
                 return from(m.add_address(req.params.at("who"), *address));
               });
             }));
  // Files to contacts: answers at once with the share being hashed; the offer follows when it ends.
  router.add("POST", "/api/v1/contacts/{who}/files", [&node](Request req) -> boost::asio::awaitable<Response> {
    auto body = object_body(req);
    if (!body) co_return bad(body.error());
    auto path = required(*body, "path");
    if (!path) co_return bad(path.error());
    auto sent = co_await detail::await<Result<app::Transfer>>(
        [&](auto done) { node.offers().send(req.params.at("who"), *path, std::move(done)); });
    co_return from(sent, [](const app::Transfer& t) { return to_json(t); }, 202);
  });
  router.add("GET", "/api/v1/files", sync([&node](const Request&) {
               return with_messenger(node, [&](Messenger&) {
                 return from(node.offers().list(), [](const std::vector<store::FileOfferRecord>& list) {
                   auto out = nlohmann::json::array();
                   for (const auto& o : list) out.push_back(to_json(o));
                   return out;
                 });
               });
             }));

  router.add("GET", "/api/v1/messages", sync([&node](const Request& req) {
               return with_messenger(node, [&](Messenger& m) {
                 return from(m.inbox(query(req, "with"), query(req, "search"), int_query(req, "limit", 100),
                                     int_query(req, "after", 0)));
               });
             }));
  router.add("POST", "/api/v1/messages", sync([&node](const Request& req) {
               return with_messenger(node, [&](Messenger& m) {
                 auto body = object_body(req);
                 if (!body) return bad(body.error());
                 auto to = required(*body, "to");
                 auto text = required(*body, "text");
                 if (!to) return bad(to.error());
                 if (!text) return bad(text.error());
                 return from(m.send_text(*to, *text), 201);
               });
             }));
  router.add("GET", "/api/v1/messages/{id}", sync([&node](const Request& req) {
               return with_messenger(node,
                                     [&](Messenger& m) { return from(m.message(req.params.at("id"))); });
             }));
  router.add("POST", "/api/v1/messages/read", sync([&node](const Request& req) {
               return with_messenger(node, [&](Messenger& m) {
                 auto body = object_body(req);
                 if (!body) return bad(body.error());
                 auto with = required(*body, "with");
                 if (!with) return bad(with.error());
                 return from(m.mark_read(*with));
               });
             }));

  router.add("GET", "/api/v1/groups", sync([&node](const Request&) {
               return with_messenger(node, [](Messenger& m) { return Response{200, m.groups(), {}}; });
             }));
  router.add("POST", "/api/v1/groups", sync([&node](const Request& req) {
               return with_messenger(node, [&](Messenger& m) {
                 auto body = object_body(req);
                 if (!body) return bad(body.error());
                 auto name = required(*body, "name");
                 auto members = detail::field<std::vector<std::string>>(*body, "members", {});
                 if (!name) return bad(name.error());
                 if (!members) return bad(members.error());
                 return from(m.group_create(*name, *members), 201);
               });
             }));
  router.add("POST", "/api/v1/groups/{group}/members", sync([&node](const Request& req) {
               return with_messenger(node, [&](Messenger& m) {
                 auto body = object_body(req);
                 if (!body) return bad(body.error());
                 auto who = required(*body, "contact");
                 if (!who) return bad(who.error());
                 return from(m.group_add(req.params.at("group"), *who));
               });
             }));
  router.add("POST", "/api/v1/groups/{group}/messages", sync([&node](const Request& req) {
               return with_messenger(node, [&](Messenger& m) {
                 auto body = object_body(req);
                 if (!body) return bad(body.error());
                 auto text = required(*body, "text");
                 if (!text) return bad(text.error());
                 return from(m.group_send(req.params.at("group"), *text), 201);
               });
             }));
}

}  // namespace kith::api
