#pragma once
// Test harness for CallMachine (call_machine_test.cpp, call_rooms_test.cpp): machines of people's
// devices, with the signals between them carried by hand and link calls placed as CallService does.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "calls/call_machine.hpp"

namespace kith::calls::testing {

using Kind = wire::pb::CallSignal;

inline const std::string SDP =
    "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
    "a=fingerprint:sha-256 AB:CD\r\n";
inline const std::string CANDIDATE = "candidate:1 1 udp 2122260223 127.0.0.1 50001 typ host";

// Nodes of people (one machine per device; a person's kith ID is their name).
struct Net {
  struct Device {
    std::string person, device;
    CallMachine machine;
    std::vector<CallView> changes;
    std::vector<ToEndpoint> endpoint;
  };
  std::map<std::string, Device> devices;  // by device name
  std::vector<SendSignal> wire;           // in flight, with the sender's device in .device swapped later
  std::vector<std::string> wire_from;
  std::int64_t now = 1'000'000;
  std::vector<std::string> blackhole;  // devices whose incoming signals are lost

  Device& add(const std::string& person, const std::string& device, Limits limits = {}) {
    limits.self_id = person;
    return devices.try_emplace(device, Device{person, device, CallMachine(std::move(limits)), {}, {}})
        .first->second;
  }
  std::vector<std::string> devices_of(const std::string& person) const {
    std::vector<std::string> out;
    for (const auto& [name, d] : devices)
      if (d.person == person) out.push_back(name);
    return out;
  }
  Contact contact(const std::string& person) { return Contact{person, person + "-name"}; }
  void take(const std::string& from, Effects& effects) {
    auto& d = devices.at(from);
    for (auto& e : effects) {
      if (auto* s = std::get_if<SendSignal>(&e)) {
        wire.push_back(*s);
        wire_from.push_back(from);
      }
      if (auto* c = std::get_if<CallChanged>(&e)) d.changes.push_back(c->call);
      if (auto* t = std::get_if<ToEndpoint>(&e)) d.endpoint.push_back(*t);
      if (auto* l = std::get_if<PlaceLink>(&e)) links.push_back({from, *l});
    }
    effects.clear();
  }
  // PlaceLinks asked for, placed as CallService does (every device of the person), until none is left.
  std::vector<std::pair<std::string, PlaceLink>> links;
  void place_links() {
    while (!links.empty()) {
      auto [from, link] = links.front();
      links.erase(links.begin());
      Effects out;
      (void)devices.at(from).machine.place(next_id(), contact(link.contact_id), devices_of(link.contact_id),
                                           link.video, now, out, link.room, true);
      take(from, out);
      flush();
    }
  }
  static std::string next_id() {
    static int n = 0;
    char id[33];
    std::snprintf(id, sizeof id, "%032x", 0x100 + n++);
    return id;
  }
  // Delivers everything in flight (and what that causes) until the wire is quiet.
  void flush() {
    for (std::size_t i = 0; i < wire.size(); ++i) {
      auto s = wire[i];
      auto from = wire_from[i];
      if (std::find(blackhole.begin(), blackhole.end(), s.device) != blackhole.end()) continue;
      auto& to = devices.at(s.device);
      ASSERT_EQ(to.person, s.contact_id);
      Effects out;
      to.machine.remote(contact(devices.at(from).person), from, s.signal, now, out);
      take(s.device, out);
    }
    wire.clear();
    wire_from.clear();
  }
  CallView place(const std::string& from, const std::string& to_person, std::vector<std::string> to_devices,
                 bool video = false, const std::string& room = {}) {
    Effects out;
    auto call = devices.at(from).machine.place(next_id(), contact(to_person), std::move(to_devices), video,
                                               now, out, room);
    EXPECT_TRUE(call) << (call ? "" : call.error().message);
    take(from, out);
    flush();
    return call ? *call : CallView{};
  }
  template <class F>
  Status act(const std::string& device, F f) {
    Effects out;
    Status s = f(devices.at(device).machine, out);
    take(device, out);
    flush();
    return s;
  }
  State state(const std::string& device, const std::string& id) {
    auto v = devices.at(device).machine.get(id);
    return v ? v->state : State::ended;
  }
  std::string reason(const std::string& device, const std::string& id) {
    return devices.at(device).machine.get(id)->end_reason;
  }
};

}  // namespace kith::calls::testing
