// The web UI's routes that the server answers itself, without the Router: static assets, the login
// exchange, login tokens and logout. See ui_auth.hpp for the login design and docs/api.md.
#include <spdlog/spdlog.h>

#include <boost/beast/http/verb.hpp>

#include "api/detail/pipeline.hpp"
#include "api/ui_assets.hpp"
#include "api/ui_auth.hpp"

namespace kith::api::detail {
namespace http = boost::beast::http;

namespace {

constexpr std::string_view UI_PREFIX = "/ui/";
constexpr std::string_view LOGIN_PATH = "/ui/login";
constexpr std::string_view LOGIN_TOKENS_PATH = "/api/v1/ui/login-tokens";
constexpr std::string_view LOGOUT_PATH = "/api/v1/ui/logout";

// Scripts, styles and images only from this server; no inline script or style; no plugins, no
// framing, no <base> tricks, forms only to this server.
constexpr std::string_view UI_CSP =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

std::string_view sv(boost::beast::string_view s) { return {s.data(), s.size()}; }

std::string_view path_of(const HttpRequest& r) {
  auto target = sv(r.target());
  return target.substr(0, target.find('?'));
}

std::string_view content_type_for(std::string_view path) {
  auto ends = [&](std::string_view ext) {
    return path.size() >= ext.size() && path.substr(path.size() - ext.size()) == ext;
  };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".js")) return "text/javascript; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".svg")) return "image/svg+xml";
  if (ends(".png")) return "image/png";
  if (ends(".json") || ends(".webmanifest")) return "application/json";
  if (ends(".txt")) return "text/plain; charset=utf-8";
  return "application/octet-stream";
}

void add_page_headers(Response& r) {
  r.headers.emplace_back("Content-Security-Policy", std::string(UI_CSP));
  r.headers.emplace_back("X-Frame-Options", "DENY");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
}

Response page(int status, std::string_view content_type, std::string body) {
  Response r;
  r.status = status;
  r.content_type = std::string(content_type);
  r.raw_body = std::move(body);
  add_page_headers(r);
  return r;
}

Response redirect(std::string location) {
  auto r = page(303, "text/plain; charset=utf-8", "See " + location + "\n");
  r.headers.emplace_back("Location", std::move(location));
  return r;
}

// A small page for a failed login: a bare 403 in a browser tab would leave a person guessing.
Response login_failed() {
  return page(403, "text/html; charset=utf-8",
              "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>kith: login link not valid"
              "</title><h1>This login link is not valid</h1><p>Login links work once and for two minutes. "
              "Run <code>kith ui</code> again for a new one.</p></html>\n");
}

std::string cookie(std::uint16_t port, const std::string& value, bool expire) {
  std::string c = UiSessions::cookie_name(port) + "=" + value + "; Path=/; HttpOnly; SameSite=Strict";
  if (expire) c += "; Max-Age=0";
  return c;
}

Response login(const HttpRequest& request, const ServerOptions& options, std::uint16_t port) {
  if (!options.ui_sessions) return Response::error(404, "not_found", "web UI login is not enabled");
  auto target = sv(request.target());
  auto q = target.find('?');
  std::string token;
  if (q != std::string_view::npos) {
    auto parsed = make_request("GET", target, "");
    if (parsed) {
      if (auto it = parsed->query.find("token"); it != parsed->query.end()) token = it->second;
    }
  }
  auto session = token.empty() ? std::nullopt : options.ui_sessions->redeem(token);
  if (!session) return login_failed();
  // 303 to a URL without the token: nothing secret stays in the address bar or the history.
  auto r = redirect(std::string(UI_PREFIX));
  r.headers.emplace_back("Set-Cookie", cookie(port, *session, false));
  return r;
}

}  // namespace

bool is_public_ui_request(const HttpRequest& head) {
  if (head.method() != http::verb::get) return false;
  auto path = path_of(head);
  return path == "/" || path == "/ui" || path.substr(0, UI_PREFIX.size()) == UI_PREFIX;
}

Response serve_ui(const HttpRequest& request, const ServerOptions& options, std::uint16_t port) {
  auto path = path_of(request);
  if (path == "/" || path == "/ui") return redirect(std::string(UI_PREFIX));
  if (path == LOGIN_PATH) return login(request, options, port);
  auto name = path.substr(UI_PREFIX.size());
  if (name.empty()) name = "index.html";
  for (const auto& asset : ui_assets()) {
    if (asset.path != name) continue;
    auto r = page(200, content_type_for(name), std::string(asset.data));
    // Revalidate on every load: the assets change with the binary, and loopback is cheap.
    r.headers.emplace_back("Cache-Control", "no-cache");
    return r;
  }
  return page(404, "text/plain; charset=utf-8", "not found\n");
}

std::optional<Response> serve_ui_api(const HttpRequest& request, Auth auth, const ServerOptions& options,
                                     std::uint16_t port) {
  auto path = path_of(request);
  if (path != LOGIN_TOKENS_PATH && path != LOGOUT_PATH) return std::nullopt;
  if (request.method() != http::verb::post) {
    auto r = Response::error(405, "method_not_allowed", "this route only supports POST");
    r.headers.emplace_back("Allow", "POST");
    return r;
  }
  if (!options.ui_sessions) return Response::error(404, "not_found", "web UI login is not enabled");
  if (path == LOGOUT_PATH) {
    auto [begin, end] = request.equal_range(http::field::cookie);
    for (auto it = begin; it != end; ++it) {
      if (auto value = find_cookie(sv(it->value()), UiSessions::cookie_name(port)))
        options.ui_sessions->end_session(*value);
    }
    Response r{200, {{"ok", true}}, {}};
    r.headers.emplace_back("Set-Cookie", cookie(port, "", true));
    return r;
  }
  // A browser session must not mint login links: only a local program holding the API token may.
  if (auth != Auth::bearer) {
    return Response::error(403, "bearer_required", "login tokens are issued only to the API token's holder");
  }
  auto token = options.ui_sessions->issue_login_token();
  spdlog::info("api: issued a web UI login token");
  return Response{201,
                  {{"token", token},
                   {"path", std::string(LOGIN_PATH) + "?token=" + token},
                   {"expires_in", UiSessions::LOGIN_TOKEN_LIFETIME.count()}},
                  {}};
}

}  // namespace kith::api::detail
