// Tests of the web UI's security rules: login tokens, session cookies, the CSRF header, public
// static assets, built-in UI routes, and upload path checks and streaming. Part of api_test.
// clang-format off
#include "api/detail/asio_compat.hpp"  // before any Boost.Asio header; see there
// clang-format on
#include "api/ui_auth.hpp"

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "api/http_server.hpp"
#include "api/ui_assets.hpp"
#include "api/uploads.hpp"

using namespace kith;
using namespace kith::api;
namespace http = boost::beast::http;
using json = nlohmann::json;

namespace {

constexpr const char* TOKEN = "ui-test-token-0123456789";
constexpr std::uint16_t PORT = 4343;

std::string header(const Response& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

// A request to a server on PORT; `extra` are header lines ending in "\r\n".
std::string req(const std::string& method, const std::string& target, const std::string& extra = "",
                const std::string& body = "") {
  std::string text =
      method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(PORT) + "\r\n" + extra;
  if (!body.empty() || method == "POST" || method == "PUT")
    text += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  return text + "\r\n" + body;
}

const std::string BEARER = std::string("Authorization: Bearer ") + TOKEN + "\r\n";

class UiRules : public ::testing::Test {
 protected:
  void SetUp() override {
    m_router.add("GET", "/api/v1/ping", sync([](const Request& r) {
                   return Response{200, {{"bearer", r.bearer}}, {}};
                 }));
    m_router.add("POST", "/api/v1/echo", sync([](const Request&) {
                   return Response{200, {{"ok", true}}, {}};
                 }));
    m_options.token = TOKEN;
    m_options.ui_sessions = &m_sessions;
  }
  Response run(const std::string& text) { return handle_raw_request(text, m_options, PORT, m_router); }

  // Logs in the way a browser does and returns the "Cookie:" header line for the session.
  std::string login() {
    auto minted = run(req("POST", "/api/v1/ui/login-tokens", BEARER));
    EXPECT_EQ(minted.status, 201);
    auto r = run(req("GET", minted.body["path"].get<std::string>()));
    EXPECT_EQ(r.status, 303);
    auto set_cookie = header(r, "Set-Cookie");
    return "Cookie: other=1; " + set_cookie.substr(0, set_cookie.find(';')) + "\r\n";
  }

  UiSessions::Clock::time_point m_now{};
  UiSessions m_sessions{[this] { return m_now; }};
  Router m_router;
  ServerOptions m_options;
};

}  // namespace

TEST(UiSessionsAlone, LoginTokensAreSingleUseAndExpire) {
  UiSessions::Clock::time_point now{};
  UiSessions sessions([&] { return now; });
  auto token = sessions.issue_login_token();
  EXPECT_EQ(token.size(), 64u);
  EXPECT_NE(token, sessions.issue_login_token());  // random, not a counter
  auto session = sessions.redeem(token);
  ASSERT_TRUE(session);
  EXPECT_EQ(session->size(), 64u);
  EXPECT_TRUE(sessions.is_session(*session));
  EXPECT_FALSE(sessions.redeem(token));  // used
  EXPECT_FALSE(sessions.is_session(token));
  EXPECT_FALSE(sessions.is_session(""));

  auto late = sessions.issue_login_token();
  now += UiSessions::LOGIN_TOKEN_LIFETIME;
  EXPECT_FALSE(sessions.redeem(late));  // expired exactly at its lifetime
  auto fresh = sessions.issue_login_token();
  now += UiSessions::LOGIN_TOKEN_LIFETIME - std::chrono::seconds(1);
  EXPECT_TRUE(sessions.redeem(fresh));

  sessions.end_session(*session);
  EXPECT_FALSE(sessions.is_session(*session));
}

TEST(UiSessionsAlone, CookieHeaderParsing) {
  EXPECT_EQ(find_cookie("a=1; kith_session_7=abc; b=2", "kith_session_7"), "abc");
  EXPECT_EQ(find_cookie("kith_session_7=abc", "kith_session_7"), "abc");
  EXPECT_FALSE(find_cookie("kith_session_70=abc", "kith_session_7"));
  EXPECT_FALSE(find_cookie("xkith_session_7=abc", "kith_session_7"));
  EXPECT_FALSE(find_cookie("", "kith_session_7"));
  EXPECT_EQ(UiSessions::cookie_name(7737), "kith_session_7737");
}

TEST_F(UiRules, StaticAssetsArePublicWithStrictHeaders) {
  auto index = run(req("GET", "/ui/"));
  EXPECT_EQ(index.status, 200);
  EXPECT_EQ(index.content_type, "text/html; charset=utf-8");
  EXPECT_NE(index.raw_body.find("<!doctype html>"), std::string::npos);
  EXPECT_NE(header(index, "Content-Security-Policy").find("default-src 'self'"), std::string::npos);
  EXPECT_EQ(header(index, "Content-Security-Policy").find("unsafe-inline"), std::string::npos);
  EXPECT_EQ(header(index, "X-Frame-Options"), "DENY");
  EXPECT_EQ(header(index, "Referrer-Policy"), "no-referrer");
  EXPECT_EQ(header(index, "Cache-Control"), "no-cache");
  EXPECT_EQ(run(req("GET", "/ui/js/app.js")).content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(run(req("GET", "/ui/style.css")).content_type, "text/css; charset=utf-8");
  EXPECT_EQ(run(req("GET", "/ui/nope.js")).status, 404);
  EXPECT_EQ(run(req("GET", "/ui/../api.token")).status, 404);
  auto root = run(req("GET", "/"));
  EXPECT_EQ(root.status, 303);
  EXPECT_EQ(header(root, "Location"), "/ui/");
  // Every asset the embedder found is served, and none is empty (a broken embed would be).
  ASSERT_FALSE(ui_assets().empty());
  for (const auto& asset : ui_assets()) {
    EXPECT_FALSE(asset.data.empty()) << asset.path;
    EXPECT_EQ(run(req("GET", "/ui/" + std::string(asset.path))).status, 200) << asset.path;
  }
  // Public means "no token", not "no checks": Host and Origin still apply, and only GET is public.
  auto foreign = "GET /ui/ HTTP/1.1\r\nHost: evil.example:4343\r\n\r\n";
  EXPECT_EQ(run(foreign).status, 403);
  EXPECT_EQ(run(req("GET", "/ui/", "Origin: http://evil.example\r\n")).status, 403);
  EXPECT_EQ(run(req("POST", "/ui/")).status, 401);
}

TEST_F(UiRules, LoginExchangesTheTokenForACookieOnce) {
  EXPECT_EQ(run(req("GET", "/ui/login?token=" + std::string(64, 'a'))).status, 403);
  EXPECT_EQ(run(req("GET", "/ui/login")).status, 403);
  auto minted = run(req("POST", "/api/v1/ui/login-tokens", BEARER));
  ASSERT_EQ(minted.status, 201);
  EXPECT_EQ(minted.body["expires_in"], 120);
  const auto path = minted.body["path"].get<std::string>();
  EXPECT_EQ(path, "/ui/login?token=" + minted.body["token"].get<std::string>());
  auto r = run(req("GET", path));
  EXPECT_EQ(r.status, 303);
  EXPECT_EQ(header(r, "Location"), "/ui/");  // no token left in the address bar
  auto set_cookie = header(r, "Set-Cookie");
  EXPECT_EQ(set_cookie.rfind("kith_session_4343=", 0), 0u) << set_cookie;
  EXPECT_NE(set_cookie.find("; HttpOnly"), std::string::npos);
  EXPECT_NE(set_cookie.find("; SameSite=Strict"), std::string::npos);
  EXPECT_NE(set_cookie.find("; Path=/"), std::string::npos);
  EXPECT_EQ(set_cookie.find(minted.body["token"].get<std::string>()), std::string::npos);
  EXPECT_EQ(run(req("GET", path)).status, 403);  // single use
}

TEST_F(UiRules, SessionCookieAuthenticatesAndNeedsTheCsrfHeaderToChangeThings) {
  auto cookie = login();
  auto ping = run(req("GET", "/api/v1/ping", cookie));
  EXPECT_EQ(ping.status, 200);
  EXPECT_EQ(ping.body["bearer"], false);
  EXPECT_EQ(run(req("GET", "/api/v1/ping", BEARER)).body["bearer"], true);
  EXPECT_EQ(run(req("GET", "/api/v1/events", cookie)).status, 200);  // EventSource sends the cookie

  auto no_csrf = run(req("POST", "/api/v1/echo", cookie, "{}"));
  EXPECT_EQ(no_csrf.status, 403);
  EXPECT_EQ(no_csrf.body["error"]["code"], "csrf_required");
  EXPECT_EQ(run(req("POST", "/api/v1/echo", cookie + "X-Kith-CSRF: 0\r\n", "{}")).status, 403);
  EXPECT_EQ(run(req("POST", "/api/v1/echo", cookie + "X-Kith-CSRF: 1\r\n", "{}")).status, 200);
  EXPECT_EQ(run(req("PUT", "/api/v1/uploads/x/files", cookie)).status, 403);
  // The Bearer token needs no CSRF header: only browsers send cookies on their own.
  EXPECT_EQ(run(req("POST", "/api/v1/echo", BEARER, "{}")).status, 200);
  // Another origin is refused even with a valid cookie and the header.
  EXPECT_EQ(
      run(req("POST", "/api/v1/echo", cookie + "X-Kith-CSRF: 1\r\nOrigin: http://evil.example\r\n", "{}"))
          .status,
      403);
  // A session cannot mint login links.
  auto mint = run(req("POST", "/api/v1/ui/login-tokens", cookie + "X-Kith-CSRF: 1\r\n"));
  EXPECT_EQ(mint.status, 403);
  EXPECT_EQ(mint.body["error"]["code"], "bearer_required");

  // Wrong value, another port's cookie name, and no sessions configured: all 401.
  EXPECT_EQ(
      run(req("GET", "/api/v1/ping", "Cookie: kith_session_4343=" + std::string(64, '0') + "\r\n")).status,
      401);
  auto value = cookie.substr(cookie.find("kith_session_4343=") + 18, 64);
  EXPECT_EQ(run(req("GET", "/api/v1/ping", "Cookie: kith_session_4344=" + value + "\r\n")).status, 401);
  m_options.ui_sessions = nullptr;
  EXPECT_EQ(run(req("GET", "/api/v1/ping", cookie)).status, 401);
  EXPECT_EQ(run(req("GET", "/ui/login?token=x")).status, 404);
  m_options.ui_sessions = &m_sessions;

  // Logout ends the session and expires the cookie.
  auto out = run(req("POST", "/api/v1/ui/logout", cookie + "X-Kith-CSRF: 1\r\n"));
  EXPECT_EQ(out.status, 200);
  EXPECT_NE(header(out, "Set-Cookie").find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(run(req("GET", "/api/v1/ping", cookie)).status, 401);
}

TEST(UploadPaths, OnlySafeRelativePaths) {
  for (const char* ok : {"a.txt", "album/cd 1/01 - intro.flac", "dir/.hidden", "ünïcode/ファイル"}) {
    auto p = safe_relative_path(ok);
    ASSERT_TRUE(p) << ok;
    EXPECT_TRUE(p->is_relative());
  }
  for (const char* bad : {"", "/etc/passwd", "../x", "a/../../x", "a/./b", "a//b", "a/", ".", "..",
                          "a\\..\\b", "a\nb", "tab\there"}) {
    EXPECT_FALSE(safe_relative_path(bad)) << bad;
  }
  EXPECT_FALSE(safe_relative_path(std::string(256, 'x')));
  EXPECT_TRUE(safe_relative_path(std::string(255, 'x')));
  EXPECT_FALSE(safe_relative_path(std::string(4097, 'x')));
}

// A real server: the body of PUT /api/v1/uploads/{id}/files goes to disk, beyond max_body.
TEST(UploadServer, StreamsLargeBodiesToDiskAndRefusesOverwrites) {
  auto root = std::filesystem::temp_directory_path() / ("kith-upload-test-" + std::to_string(::getpid()));
  std::filesystem::remove_all(root);
  Uploads uploads(root);
  auto id = uploads.create();
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_TRUE(std::filesystem::is_directory(root / *id));

  boost::asio::io_context ioc;
  auto work = boost::asio::make_work_guard(ioc);
  Router router;
  EventHub hub;
  ServerOptions options;
  options.token = TOKEN;
  options.max_body = 1024;  // uploads are not bound by it
  options.max_upload = 1 << 20;
  options.uploads = &uploads;
  HttpServer server(ioc, options, router, hub);
  auto port = server.start();
  ASSERT_TRUE(port);
  std::thread thread([&] { ioc.run(); });

  auto put = [&](const std::string& target, const std::string& body) {
    boost::asio::io_context io;
    boost::asio::ip::tcp::socket socket(io);
    socket.connect({boost::asio::ip::address_v4::loopback(), *port});
    http::request<http::string_body> r{http::verb::put, target, 11};
    r.set(http::field::host, "127.0.0.1:" + std::to_string(*port));
    r.set(http::field::authorization, std::string("Bearer ") + TOKEN);
    r.body() = body;
    r.prepare_payload();
    http::write(socket, r);
    boost::beast::flat_buffer buffer;
    http::response<http::string_body> res;
    boost::beast::error_code ec;
    http::read(socket, buffer, res, ec);
    return std::pair{res.result_int(), json::parse(res.body(), nullptr, false)};
  };

  std::string big(300 * 1024, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7 + i / 1000);
  auto [status, body] = put("/api/v1/uploads/" + *id + "/files?path=album%2Fsub%2Fbig.bin", big);
  EXPECT_EQ(status, 201);
  EXPECT_EQ(body["size"], big.size());
  std::ifstream in(root / *id / "album" / "sub" / "big.bin", std::ios::binary);
  std::stringstream got;
  got << in.rdbuf();
  EXPECT_TRUE(got.str() == big) << "the file on disk differs from the upload";

  EXPECT_EQ(put("/api/v1/uploads/" + *id + "/files?path=album%2Fsub%2Fbig.bin", "x").first, 409);
  EXPECT_EQ(put("/api/v1/uploads/" + *id + "/files?path=..%2Fescape", "x").first, 400);
  EXPECT_FALSE(std::filesystem::exists(root / "escape"));
  EXPECT_EQ(put("/api/v1/uploads/" + std::string(32, 'f') + "/files?path=a", "x").first, 404);
  EXPECT_EQ(put("/api/v1/uploads/" + *id + "/files?path=huge", std::string((1 << 20) + 1, 'x')).first, 413);
  EXPECT_FALSE(std::filesystem::exists(root / *id / "huge"));

  auto share = uploads.share_path(*id);
  ASSERT_TRUE(share);
  EXPECT_EQ(*share, root / *id / "album");  // the one dropped folder

  server.stop();
  work.reset();
  ioc.stop();
  thread.join();
  std::filesystem::remove_all(root);
}

namespace {
void touch(const std::filesystem::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary) << text;
}
}  // namespace

// Several loose files shared from a browser become one folder with a name a person can read, not
// the upload's random hex id.
TEST(Uploads, SeveralLooseFilesAreSharedAsOneNamedFolder) {
  auto root = std::filesystem::temp_directory_path() / ("kith-upload-name-" + std::to_string(::getpid()));
  std::filesystem::remove_all(root);
  Uploads uploads(root);

  auto named = uploads.create().value();
  for (const char* f : {"notes.txt", "report.pdf"}) touch(uploads.prepare_file(named, f).value(), f);
  touch(uploads.prepare_file(named, "pics/a.jpg").value(), "a");
  for (const std::string& bad :
       std::vector<std::string>{"a/b", "..", ".", ".hidden", "tab\there", " ", std::string(256, 'x')}) {
    auto r = uploads.share_path(named, bad);
    EXPECT_FALSE(r) << bad;
    if (!r) {
      EXPECT_EQ(r.error().code, base::make_error_code(base::errc::bad_input)) << bad;
    }
  }
  EXPECT_TRUE(std::filesystem::exists(root / named / "notes.txt")) << "a refused name moves nothing";
  auto share = uploads.share_path(named, "Holiday 2024");
  ASSERT_TRUE(share) << share.error().message;
  EXPECT_EQ(*share, root / named / "Holiday 2024");
  EXPECT_TRUE(std::filesystem::is_regular_file(*share / "notes.txt"));
  EXPECT_TRUE(std::filesystem::is_regular_file(*share / "report.pdf"));
  EXPECT_TRUE(std::filesystem::is_regular_file(*share / "pics" / "a.jpg"));
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(root / named), {}), 1);
  // Asking again (a retried request) shares the same folder.
  EXPECT_EQ(uploads.share_path(named, "Holiday 2024").value(), *share);

  // No name given: the first name, sorted, without its extension, "and N more".
  auto unnamed = uploads.create().value();
  for (const char* f : {"zebra.png", "apple.tar.gz", "mango"})
    touch(uploads.prepare_file(unnamed, f).value(), f);
  auto dflt = uploads.share_path(unnamed);
  ASSERT_TRUE(dflt) << dflt.error().message;
  EXPECT_EQ(dflt->filename(), "apple.tar and 2 more");

  // A name equal to one of the entries is fine: everything goes into the new folder.
  auto same = uploads.create().value();
  std::filesystem::create_directories(root / same / "docs");
  touch(uploads.prepare_file(same, "docs/x.txt").value(), "x");
  touch(uploads.prepare_file(same, "y.txt").value(), "y");
  auto nested = uploads.share_path(same, "docs");
  ASSERT_TRUE(nested) << nested.error().message;
  EXPECT_TRUE(std::filesystem::is_regular_file(*nested / "docs" / "x.txt"));
  EXPECT_TRUE(std::filesystem::is_regular_file(*nested / "y.txt"));

  // One dropped folder or file keeps its own name; `name` is not needed then.
  auto single = uploads.create().value();
  touch(uploads.prepare_file(single, "only.txt").value(), "1");
  EXPECT_EQ(uploads.share_path(single, "ignored").value(), root / single / "only.txt");
  std::filesystem::remove_all(root);
}
