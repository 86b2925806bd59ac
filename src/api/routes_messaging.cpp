// /api/v1/id, /contacts, /messages and /groups (docs/api.md § Contacts and messages). The handlers
// check the request, then co_await the messenger (which answers on its own strand) and turn its typed
// answer into JSON (json_messaging.hpp).
#include "api/detail/await.hpp"
#include "api/detail/route_helpers.hpp"
#include "api/json_messaging.hpp"
#include "api/json_node.hpp"
#include "api/qr_svg.hpp"
#include "api/routes.hpp"

namespace kith::api {
namespace {

using detail::bad;
using detail::from;
using detail::object_body;
using messaging::Messenger;

boost::asio::awaitable<Response> ready(Response r) { co_return r; }

Response respond(const Status& s, int) { return from(s); }

template <class T, class ToJson>
Response respond(const Result<T>& r, int ok_status, ToJson to_json) {
  if (!r) return Response::error(detail::status_for(r.error()), r.error());
  return Response{ok_status, to_json(*r), {}};
}

Response respond(const Result<messaging::ContactView>& r, int ok) { return respond(r, ok, contact_json); }
Response respond(const Result<std::vector<messaging::ContactView>>& r, int ok) {
  return respond(r, ok, contacts_json);
}
Response respond(const Result<messaging::MessageView>& r, int ok) {
  return respond(r, ok, [](const messaging::MessageView& m) { return message_json(m); });
}
Response respond(const Result<messaging::MessageDetails>& r, int ok) {
  return respond(r, ok, [](const messaging::MessageDetails& m) { return message_json(m); });
}
Response respond(const Result<messaging::GroupView>& r, int ok) { return respond(r, ok, group_json); }
Response respond(const Result<std::vector<messaging::GroupView>>& r, int ok) {
  return respond(r, ok, groups_json);
}
Response respond(const Result<messaging::InboxPage>& r, int ok) { return respond(r, ok, inbox_json); }
Response respond(const Result<messaging::MarkReadResult>& r, int ok) {
  return respond(r, ok, mark_read_json);
}

// Asks the messenger (`call(messenger, done)`), waits for its answer and turns it into a response. T
// is the answer's type (a Result or Status).
template <class T, class Call>
boost::asio::awaitable<Response> ask(Messenger& messenger, Call call, int ok_status = 200) {
  auto start = [&](base::Done<T> done) { call(messenger, std::move(done)); };
  auto answer = co_await detail::await<T>(std::move(start));  // named: see detail/await.hpp
  co_return respond(answer, ok_status);
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
  // The node's messenger, or a 503 answer when the node runs without messaging.
  auto messenger = [&node]() -> Result<Messenger*> { return node.require_messenger(); };
  auto unavailable = [](const Result<Messenger*>& m) { return ready(Response::error(503, m.error())); };

  router.add("GET", "/api/v1/id", sync([&node](const Request&) {
               auto id = to_json(node.identity());
               add_sync_identity(node, id);  // the Syncthing device ID, in a daemon
               return Response{200, id, {}};
             }));
  // The invite link as a QR code, for a phone's camera (the web UI shows it under the link).
  router.add("GET", "/api/v1/id/qr.svg", sync([&node](const Request&) {
               auto svg = qr_svg(node.identity().invite);
               if (!svg) return Response::error(500, svg.error());
               Response r;
               r.content_type = "image/svg+xml";
               r.raw_body = std::move(*svg);
               return r;
             }));

  router.add("GET", "/api/v1/contacts", [=](Request) {
    auto m = messenger();
    if (!m) return unavailable(m);
    return ask<Result<std::vector<messaging::ContactView>>>(
        **m, [](Messenger& m, auto done) { m.contacts(std::move(done)); });
  });
  router.add("POST", "/api/v1/contacts", [=](Request req) {
    auto m = messenger();
    if (!m) return unavailable(m);
    auto body = object_body(req);
    if (!body) return ready(bad(body.error()));
    auto invite = required(*body, "invite");
    auto name = detail::field<std::string>(*body, "name", "");
    auto note = detail::field<std::string>(*body, "message", "");
    if (!invite) return ready(bad(invite.error()));
    if (!name) return ready(bad(name.error()));
    if (!note) return ready(bad(note.error()));
    return ask<Result<messaging::ContactView>>(
        **m,
        [invite = *invite, name = *name, note = *note](Messenger& m, auto done) {
          m.add_contact(invite, name, note, std::move(done));
        },
        201);
  });
  router.add("GET", "/api/v1/contacts/requests", [=](Request) {
    auto m = messenger();
    if (!m) return unavailable(m);
    return ask<Result<std::vector<messaging::ContactView>>>(
        **m, [](Messenger& m, auto done) { m.requests(std::move(done)); });
  });
  router.add("GET", "/api/v1/contacts/{who}", [=](Request req) {
    auto m = messenger();
    if (!m) return unavailable(m);
    return ask<Result<messaging::ContactView>>(
        **m, [who = req.params.at("who")](Messenger& m, auto done) { m.contact(who, std::move(done)); });
  });
  router.add("POST", "/api/v1/contacts/{who}/accept", [=](Request req) {
    auto m = messenger();
    if (!m) return unavailable(m);
    return ask<Result<messaging::ContactView>>(
        **m, [who = req.params.at("who")](Messenger& m, auto done) { m.accept(who, std::move(done)); });
  });
  router.add("POST", "/api/v1/contacts/{who}/decline", [=](Request req) {
    auto m = messenger();
    if (!m) return unavailable(m);
    return ask<Status>(
        **m, [who = req.params.at("who")](Messenger& m, auto done) { m.decline(who, std::move(done)); });
  });
  router.add("POST", "/api/v1/contacts/{who}/block", [=](Request req) {
    auto m = messenger();
    if (!m) return unavailable(m);
    return ask<Status>(
        **m, [who = req.params.at("who")](Messenger& m, auto done) { m.block(who, std::move(done)); });
  });
  router.add("DELETE", "/api/v1/contacts/{who}", [=](Request req) {
    auto m = messenger();
    if (!m) return unavailable(m);
    return ask<Status>(
        **m, [who = req.params.at("who")](Messenger& m, auto done) { m.remove(who, std::move(done)); });
  });
  router.add("PUT", "/api/v1/contacts/{who}/name", [=](Request req) {
    auto m = messenger();
    if (!m) return unavailable(m);
    auto body = object_body(req);
    if (!body) return ready(bad(body.error()));
    auto name = required(*body, "name");
    if (!name) return ready(bad(name.error()));
    return ask<Status>(**m, [who = req.params.at("who"), name = *name](Messenger& m, auto done) {
      m.rename(who, name, std::move(done));
    });
  });
  router.add("POST", "/api/v1/contacts/{who}/addresses", [=](Request req) {
    auto m = messenger();
    if (!m) return unavailable(m);
    auto body = object_body(req);
    if (!body) return ready(bad(body.error()));
    auto address = required(*body, "address");
    if (!address) return ready(bad(address.error()));
    return ask<Status>(**m, [who = req.params.at("who"), address = *address](Messenger& m, auto done) {
      m.add_address(who, address, std::move(done));
    });
  });
  // Files to contacts: answers at once with the share being hashed (202); the offer follows when it
  // ends (file.offered), or the hashing job fails (transfer.error).
  router.add(
      "POST", "/api/v1/contacts/{who}/files", [&node](Request req) -> boost::asio::awaitable<Response> {
        auto body = object_body(req);
        if (!body) co_return bad(body.error());
        auto path = required(*body, "path");
        if (!path) co_return bad(path.error());
        if (auto m = node.require_messenger(); !m) co_return Response::error(503, m.error());
        auto start = [&](auto done) { node.offers().send(req.params.at("who"), *path, std::move(done)); };
        auto sent = co_await detail::await<Result<app::Transfer>>(std::move(start));
        co_return from(
            sent, [](const app::Transfer& t) { return to_json(t); }, 202);
      });
  router.add("GET", "/api/v1/files", sync([&node](const Request&) {
               if (auto m = node.require_messenger(); !m) return Response::error(503, m.error());
               return from(node.offers().list(), [](const std::vector<store::FileOfferRecord>& list) {
                 auto out = nlohmann::json::array();
                 for (const auto& o : list) out.push_back(to_json(o));
                 return out;
               });
             }));

  router.add("GET", "/api/v1/messages", [=](Request req) {
    auto m = messenger();
    if (!m) return unavailable(m);
    return ask<Result<messaging::InboxPage>>(
        **m, [with = query(req, "with"), search = query(req, "search"), limit = int_query(req, "limit", 100),
              after = int_query(req, "after", 0)](Messenger& m, auto done) {
          m.inbox(with, search, limit, after, std::move(done));
        });
  });
  router.add("POST", "/api/v1/messages", [=](Request req) {
    auto m = messenger();
    if (!m) return unavailable(m);
    auto body = object_body(req);
    if (!body) return ready(bad(body.error()));
    auto to = required(*body, "to");
    auto text = required(*body, "text");
    if (!to) return ready(bad(to.error()));
    if (!text) return ready(bad(text.error()));
    return ask<Result<messaging::MessageView>>(
        **m, [to = *to, text = *text](Messenger& m, auto done) { m.send_text(to, text, std::move(done)); },
        201);
  });
  router.add("GET", "/api/v1/messages/{id}", [=](Request req) {
    auto m = messenger();
    if (!m) return unavailable(m);
    return ask<Result<messaging::MessageDetails>>(
        **m, [id = req.params.at("id")](Messenger& m, auto done) { m.message(id, std::move(done)); });
  });
  router.add("POST", "/api/v1/messages/read", [=](Request req) {
    auto m = messenger();
    if (!m) return unavailable(m);
    auto body = object_body(req);
    if (!body) return ready(bad(body.error()));
    auto with = required(*body, "with");
    if (!with) return ready(bad(with.error()));
    return ask<Result<messaging::MarkReadResult>>(
        **m, [with = *with](Messenger& m, auto done) { m.mark_read(with, std::move(done)); });
  });

  router.add("GET", "/api/v1/groups", [=](Request) {
    auto m = messenger();
    if (!m) return unavailable(m);
    return ask<Result<std::vector<messaging::GroupView>>>(
        **m, [](Messenger& m, auto done) { m.groups(std::move(done)); });
  });
  router.add("POST", "/api/v1/groups", [=](Request req) {
    auto m = messenger();
    if (!m) return unavailable(m);
    auto body = object_body(req);
    if (!body) return ready(bad(body.error()));
    auto name = required(*body, "name");
    auto members = detail::field<std::vector<std::string>>(*body, "members", {});
    if (!name) return ready(bad(name.error()));
    if (!members) return ready(bad(members.error()));
    return ask<Result<messaging::GroupView>>(
        **m,
        [name = *name, members = *members](Messenger& m, auto done) {
          m.group_create(name, members, std::move(done));
        },
        201);
  });
  router.add("POST", "/api/v1/groups/{group}/members", [=](Request req) {
    auto m = messenger();
    if (!m) return unavailable(m);
    auto body = object_body(req);
    if (!body) return ready(bad(body.error()));
    auto who = required(*body, "contact");
    if (!who) return ready(bad(who.error()));
    return ask<Result<messaging::GroupView>>(
        **m, [group = req.params.at("group"), who = *who](Messenger& m, auto done) {
          m.group_add(group, who, std::move(done));
        });
  });
  router.add("POST", "/api/v1/groups/{group}/messages", [=](Request req) {
    auto m = messenger();
    if (!m) return unavailable(m);
    auto body = object_body(req);
    if (!body) return ready(bad(body.error()));
    auto text = required(*body, "text");
    if (!text) return ready(bad(text.error()));
    return ask<Result<messaging::MessageView>>(
        **m,
        [group = req.params.at("group"), text = *text](Messenger& m, auto done) {
          m.group_send(group, text, std::move(done));
        },
        201);
  });
}

}  // namespace kith::api
