// /api/v1/calls (docs/api.md § Calls): the node's call signalling for its local media endpoints — a
// web page's RTCPeerConnection or `kith call`'s GStreamer. The handlers check the request, co_await
// the call service (which answers on its strand) and turn its answer into JSON (json_calls.hpp).
#include <algorithm>
#include <cctype>

#include "api/detail/await.hpp"
#include "api/detail/route_helpers.hpp"
#include "api/json_calls.hpp"
#include "api/routes.hpp"
#include "base/endpoint.hpp"
#include "base/hex.hpp"
#include "calls/errors.hpp"

namespace kith::api {
namespace {

using calls::CallService;
using detail::bad;
using detail::object_body;

int call_status(const Error& e) {
  if (e.code == calls::make_error_code(calls::errc::unknown_call)) return 404;
  if (e.code == calls::make_error_code(calls::errc::busy)) return 409;
  if (e.code == calls::make_error_code(calls::errc::wrong_state)) return 409;
  if (e.code == calls::make_error_code(calls::errc::not_reachable)) return 503;
  return detail::status_for(e);
}

Response answer_of(const Status& s) {
  if (!s) return Response::error(call_status(s.error()), s.error());
  return Response{200, nlohmann::json{{"ok", true}}, {}};
}

Response answer_of(const Result<calls::CallView>& r, int ok = 200) {
  if (!r) return Response::error(call_status(r.error()), r.error());
  return Response{ok, call_json(*r), {}};
}

// The ICE servers and networks an endpoint should use (settings calls.stun, calls.turn,
// calls.ice_networks), as RTCPeerConnection's configuration takes them.
nlohmann::json ice_config(const app::CallConfig& c) {
  auto servers = nlohmann::json::array();
  if (!c.stun.empty()) servers.push_back({{"urls", "stun:" + c.stun}});
  if (c.turn)
    servers.push_back(
        {{"urls", "turn:" + base::join_host_port(c.turn->host, c.turn->port) + "?transport=udp"},
         {"username", c.turn->user},
         {"credential", c.turn->password}});
  return {{"ice_servers", servers},
          {"ice_networks", c.ice_networks},
          {"ice_transport_policy", c.relay_only ? "relay" : "all"}};
}

boost::asio::awaitable<Response> ready(Response r) { co_return r; }

// Rooms are lower-case hex everywhere (the wire's bytes as to_hex writes them); people may type either.
std::string lower(std::string hex) {
  std::transform(hex.begin(), hex.end(), hex.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return hex;
}

// Runs `start(service, done)` on the call service and answers with `respond(answer)`. A coroutine
// with its arguments in its frame (not a capturing lambda, whose closure could go first).
template <class T, class Start, class Respond>
boost::asio::awaitable<Response> ask(app::Node& node, Start start, Respond respond) {
  auto service = node.require_calls();
  if (!service) co_return Response::error(503, service.error());
  auto begin = [s = *service, start = std::move(start)](base::Done<T> done) mutable {
    start(*s, std::move(done));
  };
  auto answer = co_await detail::await<T>(std::move(begin));  // named: see detail/await.hpp
  co_return respond(answer);
}

}  // namespace

void add_call_routes(Router& router, RouteContext ctx) {
  app::Node& node = ctx.node;
  auto status_answer = [](const Status& st) { return answer_of(st); };
  auto call_answer = [](const Result<calls::CallView>& r) { return answer_of(r); };

  router.add("GET", "/api/v1/calls", [&node](Request) {
    return ask<std::vector<calls::CallView>>(
        node, [](CallService& s, auto done) { s.list(std::move(done)); },
        [](const std::vector<calls::CallView>& list) {
          auto out = nlohmann::json::array();
          for (const auto& c : list) out.push_back(call_json(c));
          return Response{200, nlohmann::json{{"calls", out}}, {}};
        });
  });
  router.add("GET", "/api/v1/calls/config", sync([&node](const Request&) {
               return Response{200, ice_config(node.call_config()), {}};
             }));
  // {contact, video}: a call; {contact, room, video}: joins group call `room` through a participant;
  // {contacts: [...], video}: starts a group call.
  router.add("POST", "/api/v1/calls", [&node](Request req) {
    auto body = object_body(req);
    if (!body) return ready(bad(body.error()));
    auto who = detail::field<std::string>(*body, "contact", "");
    auto people = detail::field<std::vector<std::string>>(*body, "contacts", {});
    auto room = detail::field<std::string>(*body, "room", "");
    auto video = detail::field<bool>(*body, "video", false);
    for (const auto* r : {&who, &room})
      if (!*r) return ready(bad(r->error()));
    if (!people) return ready(bad(people.error()));
    if (!video) return ready(bad(video.error()));
    auto invalid = [](std::string message) {
      return ready(bad(Error{base::make_error_code(base::errc::bad_input), std::move(message)}));
    };
    if (!people->empty()) {
      if (!who->empty() || !room->empty())
        return invalid("give 'contacts' (a group call) or 'contact', not both");
      std::sort(people->begin(), people->end());
      people->erase(std::unique(people->begin(), people->end()), people->end());
      if (people->size() < 2 || people->size() > calls::MAX_ROOM_CALLS)
        return invalid("a group call takes 2 to " + std::to_string(calls::MAX_ROOM_CALLS) +
                       " contacts (for one, give 'contact')");
      return ask<Result<calls::GroupCall>>(
          node,
          [people = *people, video = *video](CallService& s, auto done) {
            s.place_group(people, video, std::move(done));
          },
          [](const Result<calls::GroupCall>& r) {
            if (!r) return Response::error(call_status(r.error()), r.error());
            auto list = nlohmann::json::array();
            for (const auto& c : r->calls) list.push_back(call_json(c));
            auto unreachable = nlohmann::json::array();
            for (const auto& [who, why] : r->unreachable)
              unreachable.push_back({{"contact", who}, {"error", why}});
            return Response{
                201, nlohmann::json{{"room", r->room}, {"calls", list}, {"unreachable", unreachable}}, {}};
          });
    }
    if (who->empty())
      return invalid("'contact' (a name or kith ID) or 'contacts' (a group call) is required");
    if (!room->empty() && (room->size() != 32 || !base::from_hex(*room)))
      return invalid("'room' must be a group call's room: 32 hex digits");
    *room = lower(*room);
    return ask<Result<calls::CallView>>(
        node,
        [who = *who, video = *video, room = *room](CallService& s, auto done) {
          s.place(who, video, room, std::move(done));
        },
        [](const Result<calls::CallView>& r) { return answer_of(r, 201); });
  });
  // Leaves a group call: hangs up each of its live calls.
  router.add("POST", "/api/v1/calls/rooms/{room}/hangup", [&node](Request req) {
    auto room = lower(req.params.at("room"));
    return ask<Result<std::size_t>>(
        node, [room](CallService& s, auto done) { s.leave_room(room, std::move(done)); },
        [](const Result<std::size_t>& r) {
          if (!r) return Response::error(call_status(r.error()), r.error());
          return Response{200, nlohmann::json{{"ok", true}, {"ended", *r}}, {}};
        });
  });
  router.add("GET", "/api/v1/calls/{id}", [&node, call_answer](Request req) {
    return ask<Result<calls::CallView>>(
        node, [id = req.params.at("id")](CallService& s, auto done) { s.get(id, std::move(done)); },
        call_answer);
  });
  router.add("POST", "/api/v1/calls/{id}/answer", [&node, status_answer](Request req) {
    return ask<Status>(
        node, [id = req.params.at("id")](CallService& s, auto done) { s.answer(id, std::move(done)); },
        status_answer);
  });
  // Ends a call: declines a ringing one, cancels an outgoing one, hangs up a running one.
  router.add("POST", "/api/v1/calls/{id}/hangup", [&node, status_answer](Request req) {
    return ask<Status>(
        node, [id = req.params.at("id")](CallService& s, auto done) { s.hangup(id, std::move(done)); },
        status_answer);
  });
  router.add("POST", "/api/v1/calls/{id}/connected", [&node, status_answer](Request req) {
    return ask<Status>(
        node, [id = req.params.at("id")](CallService& s, auto done) { s.connected(id, std::move(done)); },
        status_answer);
  });
  router.add("POST", "/api/v1/calls/{id}/failed", [&node, status_answer](Request req) {
    auto body = object_body(req);
    if (!body) return ready(bad(body.error()));
    auto reason = detail::field<std::string>(*body, "reason", "the endpoint gave no reason");
    if (!reason) return ready(bad(reason.error()));
    return ask<Status>(
        node,
        [id = req.params.at("id"), reason = *reason](CallService& s, auto done) {
          s.failed(id, reason, std::move(done));
        },
        status_answer);
  });
  // The local endpoint's signal for the contact: {type: offer|answer, sdp} or {type: candidate,
  // candidate, mline}.
  router.add("POST", "/api/v1/calls/{id}/signals", [&node, status_answer](Request req) {
    auto body = object_body(req);
    if (!body) return ready(bad(body.error()));
    auto type = detail::field<std::string>(*body, "type", "");
    auto sdp = detail::field<std::string>(*body, "sdp", "");
    auto candidate = detail::field<std::string>(*body, "candidate", "");
    auto mline = detail::field<std::int64_t>(*body, "mline", 0);
    for (const auto* r : {&type, &sdp, &candidate})
      if (!*r) return ready(bad(r->error()));
    if (!mline) return ready(bad(mline.error()));
    if (*mline < 0 || *mline > 15)
      return ready(bad(Error{base::make_error_code(base::errc::bad_input), "'mline' must be 0-15"}));
    return ask<Status>(
        node,
        [id = req.params.at("id"), type = *type, sdp = *sdp, candidate = *candidate,
         mline = static_cast<std::uint32_t>(*mline)](CallService& s, auto done) {
          s.signal(id, type, sdp, candidate, mline, std::move(done));
        },
        status_answer);
  });
  // For an endpoint that polls (`kith call`): the call and the contact's signals after `after`.
  router.add("GET", "/api/v1/calls/{id}/signals", [&node](Request req) {
    std::uint64_t after = 0;
    if (auto it = req.query.find("after"); it != req.query.end()) {
      try {
        after = std::stoull(it->second);
      } catch (const std::exception&) {
        after = 0;  // not a number: from the start
      }
    }
    return ask<Result<calls::SignalsPage>>(
        node,
        [id = req.params.at("id"), after](CallService& s, auto done) {
          s.signals(id, after, std::move(done));
        },
        [](const Result<calls::SignalsPage>& r) {
          if (!r) return Response::error(call_status(r.error()), r.error());
          auto list = nlohmann::json::array();
          for (const auto& s : r->signals) list.push_back(signal_json(s));
          return Response{200, nlohmann::json{{"call", call_json(r->call)}, {"signals", list}}, {}};
        });
  });
}

}  // namespace kith::api
