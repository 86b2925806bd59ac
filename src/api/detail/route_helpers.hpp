#pragma once
// Small helpers shared by the route files (routes*.cpp): error statuses and JSON body fields.
#include "api/router.hpp"
#include "app/errors.hpp"
#include "safety/errors.hpp"
#include "swarm/types.hpp"
#include "sync/errors.hpp"

namespace kith::api::detail {

inline int status_for(const Error& e) {
  if (e.code == swarm::make_error_code(swarm::errc::unknown_transfer)) return 404;
  if (e.code == safety::make_error_code(safety::errc::unknown_item)) return 404;
  if (e.code == safety::make_error_code(safety::errc::quarantined)) return 409;
  if (e.code == swarm::make_error_code(swarm::errc::duplicate)) return 409;
  if (e.code == sync::make_error_code(sync::errc::not_releasable)) return 409;
  if (e.code == safety::make_error_code(safety::errc::blocked)) return 403;
  if (e.code == base::make_error_code(base::errc::not_found)) return 404;
  if (e.code == base::make_error_code(base::errc::unavailable)) return 503;
  return app::is_user_error(e) ? 400 : 500;
}

inline Response from(const Result<nlohmann::json>& r, int ok_status = 200) {
  if (!r) return Response::error(status_for(r.error()), r.error());
  return Response{ok_status, *r, {}};
}

// A typed result, turned into JSON with `to_json` (the converters of json_node.hpp).
template <class T, class Convert>
Response from(const Result<T>& r, Convert convert, int ok_status = 200) {
  if (!r) return Response::error(status_for(r.error()), r.error());
  return Response{ok_status, convert(*r), {}};
}

inline Response from(const Status& r) {
  if (!r) return Response::error(status_for(r.error()), r.error());
  return Response{200, nlohmann::json{{"ok", true}}, {}};
}

// Reads an optional field of a JSON body, refusing a wrong type with a clear message.
template <class T>
Result<T> field(const nlohmann::json& body, const char* name, T fallback) {
  if (!body.contains(name) || body[name].is_null()) return fallback;
  try {
    return body[name].get<T>();
  } catch (const nlohmann::json::exception&) {
    return fail(base::make_error_code(base::errc::bad_input),
                std::string("field '") + name + "' has the wrong type");
  }
}

inline Response bad(const Error& e) { return Response::error(400, e); }

// The request's body as a JSON object, or why not.
inline Result<nlohmann::json> object_body(const Request& req) {
  auto body = req.json_body();
  if (!body) return body;
  if (!body->is_object())
    return fail(base::make_error_code(base::errc::bad_input), "body must be a JSON object");
  return body;
}

}  // namespace kith::api::detail
