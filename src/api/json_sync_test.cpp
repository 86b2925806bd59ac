// The JSON of folder sync (json_sync.hpp) byte for byte as docs/api.md § Folder sync shows it: the CLI,
// the web UI and the tests read it.
#include "api/json_sync.hpp"

#include <gtest/gtest.h>

using namespace kith;

namespace {

sync::FolderView folder() {
  sync::FolderView f;
  f.id = "photos";
  f.label = "Photos";
  f.path = "/home/me/Photos";
  f.state = "syncing";
  f.local_files = 10;
  f.local_bytes = 1000;
  f.global_files = 12;
  f.global_bytes = 1200;
  f.need_files = 2;
  f.need_bytes = 200;
  f.sequence = 31;
  f.last_scan = 1796590000;
  f.bytes_fetched = 4096;
  f.bytes_reused = 131072;
  f.devices = {{"DEV", "nas", true, 83.5, 2, 200}};
  f.held = {{"tools/eicar.com", "q1", "infected: Eicar-Signature"}};
  f.case_insensitive = true;
  f.pull_errors = {{"Report.txt", "case conflict"}};
  return f;
}

}  // namespace

TEST(JsonSync, Folder) {
  EXPECT_EQ(
      api::folder_json(folder()).dump(),
      R"({"bytes_fetched":4096,"bytes_reused":131072,"case_insensitive":true,"devices":[{"completion":83.5,"connected":true,)"
      R"("device":"DEV","name":"nas","need_bytes":200,"need_files":2}],"disk_full":false,"error":"","global_bytes":1200,"global_files":12,"held":[{"name":"tools/eicar.com",)"
      R"("quarantine_id":"q1","reason":"infected: Eicar-Signature"}],"id":"photos","label":"Photos",)"
      R"("last_scan":1796590000,"local_bytes":1000,"local_files":10,"need_bytes":200,"need_files":2,)"
      R"("path":"/home/me/Photos","paused":false,"pull_errors":[{"error":"case conflict","name":"Report.txt"}],)"
      R"("sequence":31,"state":"syncing","type":"sendreceive","versioning":{"params":{},"type":"none"}})");
  EXPECT_EQ(api::folders_json({}).dump(), R"({"folders":[]})");
}

TEST(JsonSync, Changes) {
  sync::ChangeView pulled{1796590000, "a/b.jpg", "file", "updated", "DEV", "nas", "", "shell script"};
  sync::ChangeView held{1796590001, "tools/eicar.com", "file", "held", "DEV", "", "infected: X"};
  EXPECT_EQ(api::change_json(pulled).dump(),
            R"({"action":"updated","device":"DEV","device_name":"nas","name":"a/b.jpg","reason":"",)"
            R"("runnable":"shell script","time":1796590000,"type":"file"})");
  const auto list = api::changes_json({held, pulled});
  ASSERT_EQ(list["changes"].size(), 2u);
  EXPECT_EQ(list["changes"][0]["action"], "held");
  EXPECT_EQ(list["changes"][0]["reason"], "infected: X");
  EXPECT_EQ(api::changes_json({}).dump(), R"({"changes":[]})");
}

TEST(JsonSync, VersioningAndVersions) {
  store::SyncVersioning v;
  v.type = "simple";
  v.keep = 3;
  EXPECT_EQ(api::versioning_json(v).dump(), R"({"params":{"cleanout_days":0,"keep":3},"type":"simple"})");
  v.type = "staggered";
  EXPECT_EQ(api::versioning_json(v).dump(), R"({"params":{"max_age_days":365},"type":"staggered"})");
  const std::int64_t t = 1796590000;
  sync::KeptVersion k{sync::tagged_name("a/b.txt", sync::version_tag(t)), "a/b.txt", t, 12, true};
  auto j = api::kept_versions_json({k});
  ASSERT_EQ(j["versions"].size(), 1u);
  EXPECT_EQ(j["versions"][0]["name"], "a/b.txt");
  EXPECT_EQ(j["versions"][0]["version"], sync::version_tag(t));
  EXPECT_EQ(j["versions"][0]["time"], t);
  EXPECT_EQ(j["versions"][0]["size"], 12);
}

TEST(JsonSync, DeviceAndPending) {
  sync::DeviceView d{"DEV",
                     "nas",
                     {"10.0.0.2:22000"},
                     {"tcp://10.0.0.3:22000"},
                     true,
                     "10.0.0.2:22000",
                     "syncthing v1.19.2",
                     {"photos"},
                     "KITHID"};
  EXPECT_EQ(
      api::device_json(d).dump(),
      R"({"address":"10.0.0.2:22000","addresses":["10.0.0.2:22000"],"client":"syncthing v1.19.2",)"
      R"("connected":true,"contact":"KITHID","discovered":["tcp://10.0.0.3:22000"],"folders":["photos"],)"
      R"("id":"DEV","name":"nas"})");
  EXPECT_EQ(api::conflicts_json({{"a.sync-conflict-20261207-101500-ABCDEFG.txt", "a.txt", "20261207-101500",
                                  "ABCDEFG", 5, 1700000000}})
                .dump(),
            R"({"conflicts":[{"device":"ABCDEFG","modified_s":1700000000,)"
            R"("name":"a.sync-conflict-20261207-101500-ABCDEFG.txt","original":"a.txt","size":5,)"
            R"("stamp":"20261207-101500"}]})");
  EXPECT_EQ(api::pendings_json({{"music", "Music", "DEV", "nas"}}).dump(),
            R"({"folders":[{"device":"DEV","device_name":"nas","id":"music","label":"Music"}]})");
}

TEST(JsonSync, Events) {
  auto [type, data] = api::event_json(sync::Event{sync::event::FolderChanged{folder()}});
  EXPECT_EQ(type, "sync.folder");
  EXPECT_EQ(data["folder"]["id"], "photos");

  std::tie(type, data) = api::event_json(sync::Event{sync::event::DeviceConnected{{"DEV", "nas"}}});
  EXPECT_EQ(type, "sync.device.connected");
  EXPECT_EQ(data["device"]["name"], "nas");

  std::tie(type, data) =
      api::event_json(sync::Event{sync::event::DeviceDisconnected{"DEV", "nas", "connection reset"}});
  EXPECT_EQ(type, "sync.device.disconnected");
  EXPECT_EQ(data.dump(), R"({"id":"DEV","name":"nas","why":"connection reset"})");

  std::tie(type, data) = api::event_json(
      sync::Event{sync::event::ItemChanged{"photos", "a/b.jpg", "held", "DEV", "infected: X"}});
  EXPECT_EQ(type, "sync.item");
  EXPECT_EQ(data.dump(),
            R"({"action":"held","device":"DEV","folder":"photos","name":"a/b.jpg","reason":"infected: X",)"
            R"("runnable":""})");

  std::tie(type, data) =
      api::event_json(sync::Event{sync::event::FolderOffered{{"music", "Music", "DEV", "nas"}}});
  EXPECT_EQ(type, "sync.offered");
  EXPECT_EQ(data["offer"]["device_name"], "nas");
}
