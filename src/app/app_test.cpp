#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <variant>

#include "app/errors.hpp"
#include "app/home.hpp"
#include "app/settings.hpp"
#include "base/fs.hpp"

using namespace kith;
namespace fs = std::filesystem;

namespace {

fs::path temp_dir(const std::string& name) {
  auto d = fs::temp_directory_path() / ("kith_app_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

// A pid that no process has: the kernel hands out pids below /proc/sys/kernel/pid_max, so pid_max
// itself is never alive (a fixed number like 999999 is a valid pid where pid_max is 4194304, the
// default of systemd-based systems).
pid_t pid_never_alive() {
  std::ifstream in("/proc/sys/kernel/pid_max");
  long max = 0;
  in >> max;
  return max > 1 ? static_cast<pid_t>(max) : 0;
}

}  // namespace

TEST(Settings, DefaultsOverridesAndTypes) {
  app::Settings s;
  EXPECT_TRUE(s.get_bool("dht.enabled"));
  ASSERT_TRUE(s.apply_override("dht.enabled=false"));
  EXPECT_FALSE(s.get_bool("dht.enabled"));
  ASSERT_TRUE(s.apply_override("limits.download=1000"));
  EXPECT_EQ(s.get_int("limits.download"), 1000);
  EXPECT_FALSE(s.apply_override("limits.download=fast"));
  EXPECT_FALSE(s.apply_override("limits.download=-1"));
  EXPECT_FALSE(s.apply_override("no.such=1"));
  EXPECT_FALSE(s.apply_override("missing-equals"));
  EXPECT_FALSE(s.set_json("dht.enabled", "yes"));
  EXPECT_FALSE(s.apply_override("log.level=loud"));  // outside the setting's choices
  EXPECT_FALSE(s.apply_override("disk.io=floppy"));
  ASSERT_TRUE(s.apply_override("disk.io=posix"));
  EXPECT_EQ(s.get_string("disk.io"), "posix");
}

TEST(Settings, EveryDefinitionIsListedWithDescription) {
  app::Settings s;
  auto j = s.to_json();
  ASSERT_EQ(j.size(), app::setting_defs().size());
  for (const auto& item : j) {
    EXPECT_FALSE(item["description"].get<std::string>().empty());
    EXPECT_EQ(item["default"], item["value"]);
  }
}

TEST(Settings, FileRoundTripAndErrors) {
  auto dir = temp_dir("settings");
  app::Settings s;
  ASSERT_TRUE(s.apply_override("bt.listen=127.0.0.1:0"));
  ASSERT_TRUE(s.apply_override("lsd.enabled=false"));
  ASSERT_TRUE(s.save_file(dir / "config.toml"));
  app::Settings t;
  ASSERT_TRUE(t.load_file(dir / "config.toml"));
  EXPECT_EQ(t.get_string("bt.listen"), "127.0.0.1:0");
  EXPECT_FALSE(t.get_bool("lsd.enabled"));

  ASSERT_TRUE(base::atomic_write_file(dir / "bad.toml", "[bt]\nlisten = \n"));
  auto r = t.load_file(dir / "bad.toml");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("bad.toml:2"), std::string::npos) << r.error().message;
  ASSERT_TRUE(base::atomic_write_file(dir / "unknown.toml", "[bt]\nlisten_port = 5\n"));
  EXPECT_FALSE(t.load_file(dir / "unknown.toml"));
  ASSERT_TRUE(base::atomic_write_file(dir / "type.toml", "[dht]\nenabled = \"yes\"\n"));
  EXPECT_FALSE(t.load_file(dir / "type.toml"));
  EXPECT_TRUE(t.load_file(dir / "missing.toml"));  // no file: defaults
  fs::remove_all(dir);
}

// Each value is checked with the parser the node reads it with, whichever way it arrives: a value that
// would leave the node listening nowhere (bt.listen=garbage) is refused with the setting's name.
TEST(Settings, ValuesTheNodeCannotUseAreRefused) {
  const std::vector<std::string> bad = {"bt.listen=garbage",
                                        "bt.listen=",
                                        "bt.listen=127.0.0.1",
                                        "bt.listen=127.0.0.1:70000",
                                        "bt.listen=eth0:6881",
                                        "bt.listen=0.0.0.0:6881,garbage",
                                        "bt.listen=::1:6881",
                                        "bt.ssl_listen=nope",
                                        "api.listen=localhost:7737",
                                        "api.listen=127.0.0.1",
                                        "api.listen=",
                                        "channel.listen=[::]",
                                        "channel.listen=garbage",
                                        "dht.bootstrap=router.bittorrent.com",
                                        "dht.bootstrap=host:0",
                                        "dht.bootstrap=a b:1",
                                        "lan.port=0",
                                        "lan.port=70000",
                                        "limits.upload=4294967296",
                                        "safety.scan_limit=0",
                                        "safety.scan_limit=4096",
                                        "profile.name=" + std::string(65, 'x'),
                                        "profile.name=a\x1b[31mb",
                                        "safety.ipfilter=/no/such/filter.p2p",
                                        "safety.signatures=/no/such/db"};
  for (const auto& assignment : bad) {
    app::Settings s;
    const auto name = assignment.substr(0, assignment.find('='));
    const auto before = s.to_json();
    auto r = s.apply_override(assignment);
    ASSERT_FALSE(r) << assignment << " was accepted";
    EXPECT_EQ(r.error().code, app::make_error_code(app::errc::bad_setting)) << assignment;
    EXPECT_NE(r.error().message.find(name), std::string::npos) << r.error().message;
    EXPECT_EQ(s.to_json(), before) << assignment << ": a refused value changes nothing";
  }
  app::Settings s;
  // The same checks for values from the API (JSON) ...
  EXPECT_FALSE(s.set_json("bt.listen", "garbage"));
  EXPECT_FALSE(s.set_json("lan.port", 0));
  EXPECT_FALSE(s.set_json("limits.download", std::uint64_t{1} << 63));
  // ... and the values that work.
  for (const char* good :
       {"bt.listen=0.0.0.0:6881,[::]:6881", "bt.listen= 127.0.0.1:0 ",
        "bt.ssl_listen=", "bt.ssl_listen=[::1]:0", "api.listen=[::1]:0", "channel.listen=[::]:6882",
        "channel.listen=127.0.0.1:0",
        "dht.bootstrap=", "dht.bootstrap=dht.libtorrent.org:25401, [2001:db8::1]:6881,10.0.0.1:6881",
        "lan.port=1", "limits.upload=2147483647", "safety.scan_limit=1",
        "profile.name=", "profile.name=Ada Lovelace", "safety.ipfilter=", "safety.signatures=/"}) {
    auto r = s.apply_override(good);
    EXPECT_TRUE(r) << good << ": " << (r ? "" : r.error().message);
  }
}

TEST(Settings, DefaultsPassTheirOwnChecks) {
  for (const auto& d : app::setting_defs()) {
    app::Settings s;
    EXPECT_TRUE(s.set_json(d.name, s.to_json()[&d - app::setting_defs().data()]["value"])) << d.name;
  }
}

TEST(Settings, ConfigFileValuesAreCheckedToo) {
  auto dir = temp_dir("settings_check");
  ASSERT_TRUE(base::atomic_write_file(dir / "config.toml", "[bt]\nlisten = \"garbage\"\n"));
  app::Settings s;
  auto r = s.load_file(dir / "config.toml");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, app::make_error_code(app::errc::bad_config));
  EXPECT_NE(r.error().message.find("bt.listen"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("garbage"), std::string::npos) << r.error().message;
  // Files named by a setting are checked when the value is set, not at every read of config.toml:
  // the node itself reports a filter file that went missing when it starts.
  ASSERT_TRUE(base::atomic_write_file(dir / "config.toml", "[safety]\nipfilter = \"/no/such/filter\"\n"));
  EXPECT_TRUE(s.load_file(dir / "config.toml"));
  fs::remove_all(dir);
}

TEST(Home, TokenIsPrivateAndStable) {
  auto dir = temp_dir("home");
  app::Home home(dir / "h");
  ASSERT_TRUE(home.prepare());
  auto t1 = home.api_token();
  ASSERT_TRUE(t1);
  EXPECT_EQ(t1->size(), 64u);
  EXPECT_EQ(fs::status(home.token_file()).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_EQ(home.api_token().value(), *t1);
  fs::remove_all(dir);
}

TEST(Home, OneLockPerHome) {
  auto dir = temp_dir("lock");
  app::Home home(dir);
  auto first = app::HomeLock::acquire(home);
  ASSERT_TRUE(first);
  // flock locks belong to the open file description, so a second open in this process conflicts too.
  EXPECT_FALSE(app::HomeLock::acquire(home));
  fs::remove_all(dir);
}

TEST(Home, DaemonInfoKeepsAnIpv6ApiAddress) {
  auto dir = temp_dir("daemon6");
  app::Home home(dir);
  ASSERT_TRUE(app::write_daemon_info(home, {::getpid(), "::1", 7737, 1}));
  auto text = base::read_file(home.daemon_file(), 4096);
  ASSERT_TRUE(text);
  EXPECT_NE(text->find("\"[::1]:7737\""), std::string::npos) << *text;  // a URL authority as it is
  auto info = app::read_daemon_info(home);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->api_host, "::1");
  EXPECT_EQ(info->api_port, 7737);
  ASSERT_TRUE(base::atomic_write_file(
      home.daemon_file(), "{\"pid\":" + std::to_string(::getpid()) + ",\"api\":\"127.0.0.1:x\"}", 0600));
  EXPECT_FALSE(app::read_daemon_info(home));
  fs::remove_all(dir);
}

TEST(Home, StaleDaemonInfoIsIgnored) {
  auto dir = temp_dir("daemon");
  app::Home home(dir);
  ASSERT_TRUE(app::write_daemon_info(home, {::getpid(), "127.0.0.1", 1234, 5678}));
  auto info = app::read_daemon_info(home);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->api_port, 1234);
  const pid_t gone = pid_never_alive();
  ASSERT_GT(gone, 0) << "cannot read /proc/sys/kernel/pid_max";
  ASSERT_EQ(::kill(gone, 0), -1);
  ASSERT_EQ(errno, ESRCH);
  ASSERT_TRUE(app::write_daemon_info(home, {gone, "127.0.0.1", 1234, 5678}));
  EXPECT_FALSE(app::read_daemon_info(home));
  fs::remove_all(dir);
}

// The lock names its holder, so that a daemon can say whom it waits for and a command can tell a
// daemon (wait for its API) from another command (refuse, as before).
TEST(Home, TheLockNamesItsHolder) {
  auto dir = temp_dir("holder");
  app::Home home(dir);
  {
    auto lock = app::HomeLock::acquire(home, "daemon");
    ASSERT_TRUE(lock);
    auto holder = app::lock_holder(home);
    ASSERT_TRUE(holder);
    EXPECT_EQ(holder->pid, ::getpid());
    EXPECT_EQ(holder->role, "daemon");
    EXPECT_NE(holder->command.find("app_test"), std::string::npos) << holder->command;
    auto second = app::HomeLock::acquire(home);
    ASSERT_FALSE(second);
    EXPECT_NE(second.error().message.find("kith process " + std::to_string(::getpid())), std::string::npos)
        << second.error().message;
  }
  EXPECT_FALSE(app::lock_holder(home)) << "a free lock names nobody";
  fs::remove_all(dir);
}

TEST(Home, ACommandWaitsForAStartingDaemonAndOtherwiseTakesTheHome) {
  using namespace std::chrono_literals;
  auto dir = temp_dir("attach");
  app::Home home(dir);
  {
    // Nobody there: the command gets the lock for a node of its own.
    auto found = app::find_daemon_or_lock(home, 5s);
    ASSERT_TRUE(found) << found.error().message;
    EXPECT_TRUE(std::holds_alternative<app::HomeLock>(*found));
    // Held by a command: refused at once, naming it.
    auto again = app::find_daemon_or_lock(home, 5s);
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, app::make_error_code(app::errc::home_locked));
  }
  {
    // A daemon is starting: wait for it rather than take the home.
    auto mark = app::StartingMark::hold(home);
    ASSERT_TRUE(mark) << mark.error().message;
    EXPECT_EQ(app::starting_daemon(home), ::getpid());
    auto found = app::find_daemon_or_lock(home, 300ms);
    ASSERT_FALSE(found) << "took the home of a starting daemon";
    EXPECT_EQ(found.error().code, base::make_error_code(base::errc::unavailable));
    EXPECT_FALSE(app::StartingMark::hold(home)) << "two daemons cannot start at once";
    // Its API is up: the command talks to it.
    ASSERT_TRUE(app::write_daemon_info(home, {::getpid(), "127.0.0.1", 1234, 5678}));
    mark->release();
    EXPECT_FALSE(app::starting_daemon(home));
    auto daemon = app::find_daemon_or_lock(home, 5s);
    ASSERT_TRUE(daemon) << daemon.error().message;
    ASSERT_TRUE(std::holds_alternative<app::DaemonInfo>(*daemon));
    EXPECT_EQ(std::get<app::DaemonInfo>(*daemon).api_port, 1234);
  }
  fs::remove_all(dir);
}
