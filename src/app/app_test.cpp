#include <gtest/gtest.h>
#include <signal.h>

#include <cerrno>
#include <filesystem>
#include <fstream>

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
