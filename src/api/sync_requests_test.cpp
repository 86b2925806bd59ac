// The checks of folder sync's request bodies (sync_requests.hpp): what the routes refuse with 400
// before the sync service is asked. No node runs here.
#include "api/sync_requests.hpp"

#include <gtest/gtest.h>

using namespace kith;
using nlohmann::json;

namespace {

// A well-formed device ID (Syncthing's 8 groups of 7), and the same without separators.
const std::string DEVICE = "MFZWI3D-BONSGYC-YLTMRWG-C43ENR5-QXGZDMM-FZWI3DP-BONSGYY-LTMRWAD";
const std::string DEVICE_BARE = "MFZWI3DBONSGYCYLTMRWGC43ENR5QXGZDMMFZWI3DPBONSGYYLTMRWAD";

std::string message_of(const Error& e) { return e.message; }

}  // namespace

TEST(SyncRequests, FolderSpecWithEverything) {
  auto spec = api::parse_folder_spec(json{{"path", "/home/me/Photos"},
                                          {"id", "photos-2024_a.b"},
                                          {"label", "Photos"},
                                          {"type", "sendonly"},
                                          {"devices", {DEVICE, DEVICE_BARE}}});
  ASSERT_TRUE(spec) << spec.error().message;
  EXPECT_EQ(spec->path, "/home/me/Photos");
  EXPECT_EQ(spec->id, "photos-2024_a.b");
  EXPECT_EQ(spec->label, "Photos");
  EXPECT_EQ(spec->type, "sendonly");
  EXPECT_EQ(spec->devices, (std::vector<std::string>{DEVICE, DEVICE_BARE}));
}

TEST(SyncRequests, FolderSpecDefaultsAndNulls) {
  auto spec = api::parse_folder_spec(json{{"path", "/srv/x"}, {"id", nullptr}, {"devices", nullptr}});
  ASSERT_TRUE(spec) << spec.error().message;
  EXPECT_EQ(spec->id, "");  // the service picks a random one
  EXPECT_EQ(spec->type, "sendreceive");
  EXPECT_TRUE(spec->devices.empty());
}

TEST(SyncRequests, FolderSpecRefusals) {
  const json bodies[] = {
      json::object(),                                      // no path
      {{"path", ""}},                                      // empty path
      {{"path", 7}},                                       // wrong type
      {{"path", "relative/dir"}},                          // not absolute
      {{"path", "/" + std::string(4096, 'a')}},            // 4097 bytes
      {{"path", std::string("/a\0b", 4)}},                 // NUL
      {{"path", "/x"}, {"type", "mirror"}},                // unknown type
      {{"path", "/x"}, {"type", true}},                    // type of the wrong type
      {{"path", "/x"}, {"label", std::string(257, 'l')}},  // oversize label
      {{"path", "/x"}, {"label", "a\x1b[2Jb"}},            // control characters
      {{"path", "/x"}, {"id", "has space"}},               // id charset
      {{"path", "/x"}, {"id", "a/b"}},                     // id charset
      {{"path", "/x"}, {"id", ".."}},                      // dot-dot
      {{"path", "/x"}, {"id", std::string(65, 'i')}},      // id length
      {{"path", "/x"}, {"devices", DEVICE}},               // not an array
      {{"path", "/x"}, {"devices", {1, 2}}},               // not strings
      {{"path", "/x"}, {"devices", {"ABCDEF"}}},           // not a device ID
      {{"path", "/x"}, {"devices", {DEVICE + "!"}}},       // stray character
      {{"path", "/x"}, {"lable", "typo"}},                 // unknown field
  };
  for (const auto& body : bodies) {
    auto spec = api::parse_folder_spec(body);
    EXPECT_FALSE(spec) << body.dump();
    if (!spec) {
      EXPECT_EQ(spec.error().code, base::make_error_code(base::errc::bad_input)) << body.dump();
      EXPECT_FALSE(spec.error().message.empty());
    }
  }
}

TEST(SyncRequests, FolderSpecLimitsAreInclusive) {
  json body{{"path", "/" + std::string(4095, 'a')},
            {"label", std::string(256, 'l')},
            {"id", std::string(64, 'i')},
            {"devices", json::array()}};
  for (int i = 0; i < 32; ++i) body["devices"].push_back(DEVICE);
  EXPECT_TRUE(api::parse_folder_spec(body));
  body["devices"].push_back(DEVICE);
  auto over = api::parse_folder_spec(body);
  ASSERT_FALSE(over);
  EXPECT_NE(message_of(over.error()).find("32"), std::string::npos);
}

TEST(SyncRequests, MessagesNameTheField) {
  auto no_path = api::parse_folder_spec(json::object());
  ASSERT_FALSE(no_path);
  EXPECT_EQ(no_path.error().message, "'path' is required");
  auto type = api::parse_folder_spec(json{{"path", "/x"}, {"type", "mirror"}});
  ASSERT_FALSE(type);
  EXPECT_EQ(type.error().message, "'type' must be sendreceive, sendonly or receiveonly");
  auto label = api::parse_folder_spec(json{{"path", "/x"}, {"label", std::string(300, 'x')}});
  ASSERT_FALSE(label);
  EXPECT_EQ(label.error().message, "'label' is longer than 256 bytes");
}

TEST(SyncRequests, DeviceRequest) {
  auto d = api::parse_device_request(
      json{{"id", DEVICE},
           {"addresses", {"192.168.1.5:22000", "tcp://nas.local:22000", "[::1]:22001"}},
           {"name", "nas"}});
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->id, DEVICE);
  EXPECT_EQ(d->addresses.size(), 3u);
  EXPECT_EQ(d->name, "nas");
  EXPECT_TRUE(api::parse_device_request(json{{"id", DEVICE_BARE}}));

  json many{{"id", DEVICE}, {"addresses", json::array()}};
  for (int i = 0; i < 17; ++i) many["addresses"].push_back("10.0.0.1:" + std::to_string(22000 + i));
  const json bodies[] = {
      json::object(),
      {{"id", "not-a-device"}},
      {{"id", DEVICE}, {"addresses", {"no-port"}}},
      {{"id", DEVICE}, {"addresses", {"udp://1.2.3.4:22000"}}},
      {{"id", DEVICE}, {"addresses", {"1.2.3.4:0"}}},
      {{"id", DEVICE}, {"addresses", "1.2.3.4:22000"}},
      {{"id", DEVICE}, {"name", std::string(257, 'n')}},
      {{"id", DEVICE}, {"name", "line\nbreak"}},
      {{"id", DEVICE}, {"folders", json::array()}},
      many,
  };
  for (const auto& body : bodies) EXPECT_FALSE(api::parse_device_request(body)) << body.dump();
}

TEST(SyncRequests, ShareAndAccept) {
  EXPECT_EQ(api::parse_share_request(json{{"device", DEVICE}}).value(), DEVICE);
  EXPECT_FALSE(api::parse_share_request(json::object()));
  EXPECT_FALSE(api::parse_share_request(json{{"device", "x"}}));
  EXPECT_FALSE(api::parse_share_request(json{{"device", DEVICE}, {"extra", 1}}));
  EXPECT_EQ(api::parse_accept_request(json{{"path", "/data/in"}}).value(), "/data/in");
  EXPECT_FALSE(api::parse_accept_request(json::object()));
  EXPECT_FALSE(api::parse_accept_request(json{{"path", "in"}}));
  EXPECT_FALSE(api::parse_accept_request(json{{"path", 1}}));
}

TEST(SyncRequests, PathParameters) {
  EXPECT_TRUE(api::check_folder_id("abcde-fghij"));
  EXPECT_FALSE(api::check_folder_id(""));
  EXPECT_FALSE(api::check_folder_id("."));
  EXPECT_FALSE(api::check_folder_id("a%2Fb"));
  EXPECT_TRUE(api::check_device_id(DEVICE));
  EXPECT_TRUE(api::check_device_id("mfzwi3d bonsgyc yltmrwg c43enr5 qxgzdmm fzwi3dp bonsgyy ltmrwad"));
  EXPECT_TRUE(api::check_device_id(DEVICE_BARE.substr(0, 52)));  // the old form, without check digits
  EXPECT_FALSE(api::check_device_id(DEVICE_BARE.substr(0, 55)));
  EXPECT_FALSE(api::check_device_id(DEVICE + "-" + std::string(20, '-')));  // over 80 characters
}

TEST(SyncRequests, Versioning) {
  auto spec = api::parse_folder_spec(
      json{{"path", "/srv/x"}, {"versioning", {{"type", "staggered"}, {"params", {{"max_age_days", 30}}}}}});
  ASSERT_TRUE(spec) << spec.error().message;
  EXPECT_EQ(spec->versioning.type, "staggered");
  EXPECT_EQ(spec->versioning.max_age_days, 30);
  EXPECT_EQ(spec->versioning.keep, 5);  // the defaults of what the type does not use

  auto simple =
      api::parse_versioning(json{{"type", "simple"}, {"params", {{"keep", 2}, {"cleanout_days", 7}}}});
  ASSERT_TRUE(simple) << simple.error().message;
  EXPECT_EQ(simple->keep, 2);
  EXPECT_EQ(simple->cleanout_days, 7);
  EXPECT_TRUE(api::parse_versioning(json{{"type", "none"}}));

  const json refused[] = {
      json::object(),                                               // no type
      {{"type", "external"}},                                       // not built
      {{"type", "trashcan"}, {"params", {{"keep", 3}}}},            // simple's
      {{"type", "simple"}, {"params", {{"keep", "3"}}}},            // a string
      {{"type", "simple"}, {"params", {{"keep", 0}}}},              // out of range
      {{"type", "staggered"}, {"params", {{"max_age_days", -1}}}},  // negative
      {{"type", "none"}, {"params", {{"cleanout_days", 1}}}},       // none takes nothing
      {{"type", "simple"}, {"params", json::array()}},              // not an object
      {{"type", "simple"}, {"cleanInterval", 3600}},                // unknown field
  };
  for (const auto& body : refused) {
    auto r = api::parse_versioning(body);
    ASSERT_FALSE(r) << body.dump();
    EXPECT_EQ(r.error().code, base::make_error_code(base::errc::bad_input)) << body.dump();
  }
  EXPECT_FALSE(api::parse_folder_spec(json{{"path", "/srv/x"}, {"versioning", "simple"}}));
}

TEST(SyncRequests, RestoreAndFileNames) {
  auto r = api::parse_restore_request(json{{"path", "docs/a.txt"}, {"version", "20261207-071320"}});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->path, "docs/a.txt");
  EXPECT_EQ(r->version, "20261207-071320");
  auto newest = api::parse_restore_request(json{{"path", "a.txt"}});
  ASSERT_TRUE(newest);
  EXPECT_FALSE(newest->version);
  for (const char* bad : {"", "/etc/passwd", "../x", "a/../b", "a//b", ".stversions/a.txt", ".stfolder"})
    EXPECT_FALSE(api::parse_restore_request(json{{"path", bad}})) << bad;
  EXPECT_FALSE(api::parse_restore_request(json{{"path", "a.txt"}, {"version", "yesterday"}}));
  EXPECT_FALSE(api::parse_restore_request(json{{"path", "a.txt"}, {"extra", 1}}));
  EXPECT_TRUE(api::check_file_name("dir/ü.txt"));
  EXPECT_FALSE(api::check_file_name(std::string("a\0b", 3)));
}
