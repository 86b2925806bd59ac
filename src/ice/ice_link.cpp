// ICE links over libnice (ice_link.hpp). Everything GLib stays in this file.
//
// The agent runs in reliable mode: libnice puts its pseudo-TCP (retransmission, ordering, flow
// control) on top of the UDP pair ICE selected, and hands out a pollable GIOStream. A Bridge joins that
// stream to one end of a local socket pair, with non-blocking copies on the engine's GLib thread; the
// other end goes to the caller, who sees an ordinary stream socket.
//
// Two things learnt the hard way: libnice handles incoming packets (STUN answers and checks too) only
// while someone reads the stream, so the bridge starts reading as gathering starts; and a *blocking*
// read of a reliable stream returns only once the whole buffer is full, which would hold back a
// channel's last frame indefinitely, hence the pollable, non-blocking reads.
#include "ice/ice_link.hpp"

#include <gio/gio.h>
#include <glib-unix.h>
#include <nice/agent.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <thread>

#include "base/endpoint.hpp"

namespace kith::ice {
namespace {

Error failed(const std::string& why) { return Error{base::make_error_code(base::errc::unavailable), why}; }
Error bad(const std::string& why) { return Error{base::make_error_code(base::errc::bad_input), why}; }

// RFC 8445 § 5.3: ice-char = ALPHA / DIGIT / "+" / "/".
bool ice_chars(const std::string& s) {
  return std::all_of(s.begin(), s.end(),
                     [](unsigned char c) { return std::isalnum(c) || c == '+' || c == '/'; });
}

std::string address_text(const NiceAddress& a) {
  char ip[NICE_ADDRESS_STRING_LEN];
  nice_address_to_string(&a, ip);
  return base::join_host_port(ip, static_cast<std::uint16_t>(nice_address_get_port(&a)));
}

// Runs `f` once on the context's thread (at once when the caller may own the context).
//
// GLib orders the hand-over with its own futex-based locks, which ThreadSanitizer cannot see; the
// release/acquire pair on `sent` says the same in terms it understands (and costs nothing), so that
// the sanitizer builds report real races here, not GLib's.
void invoke(GMainContext* ctx, std::function<void()> f) {
  struct Call {
    std::function<void()> f;
    std::atomic<bool> sent{false};
  };
  auto* call = new Call{std::move(f)};
  call->sent.store(true, std::memory_order_release);
  g_main_context_invoke_full(
      ctx, G_PRIORITY_DEFAULT,
      [](gpointer p) -> gboolean {
        auto* c = static_cast<Call*>(p);
        if (c->sent.load(std::memory_order_acquire)) c->f();
        return G_SOURCE_REMOVE;
      },
      call, [](gpointer p) { delete static_cast<Call*>(p); });
}

// A one-shot timer on the context; destroy the returned source to cancel it.
GSource* call_later(GMainContext* ctx, std::chrono::milliseconds after, std::function<void()> f) {
  GSource* s = g_timeout_source_new(static_cast<guint>(after.count()));
  g_source_set_callback(
      s,
      [](gpointer p) -> gboolean {
        (*static_cast<std::function<void()>*>(p))();
        return G_SOURCE_REMOVE;
      },
      new std::function<void()>(std::move(f)),
      [](gpointer p) { delete static_cast<std::function<void()>*>(p); });
  g_source_attach(s, ctx);
  return s;
}

}  // namespace

std::string check_candidates(const Candidates& c) {
  if (c.ufrag.size() < 4 || c.ufrag.size() > 256 || !ice_chars(c.ufrag))
    return "a malformed ICE username fragment";
  if (c.pwd.size() < 22 || c.pwd.size() > 256 || !ice_chars(c.pwd)) return "a malformed ICE password";
  if (c.lines.empty()) return "no ICE candidates";
  if (c.lines.size() > MAX_CANDIDATES)
    return "more than " + std::to_string(MAX_CANDIDATES) + " ICE candidates";
  for (const auto& l : c.lines) {
    if (l.size() > MAX_CANDIDATE_LENGTH || l.rfind("a=candidate:", 0) != 0)
      return "a malformed ICE candidate";
    if (std::any_of(l.begin(), l.end(), [](unsigned char ch) { return ch < 0x20 || ch > 0x7e; }))
      return "a malformed ICE candidate";
  }
  return {};
}

struct Bridge;

struct Engine::Impl {
  GMainContext* ctx = g_main_context_new();
  GMainLoop* loop = g_main_loop_new(ctx, FALSE);
  std::thread thread;
  std::vector<std::shared_ptr<Bridge>> bridges;  // on the GLib thread only

  ~Impl();
  void start() {
    thread = std::thread([this] {
      g_main_context_push_thread_default(ctx);
      g_main_loop_run(loop);
      g_main_context_pop_thread_default(ctx);
    });
  }
  void stop() {
    g_main_loop_quit(loop);
    if (thread.joinable()) thread.join();
  }
  void forget(Bridge* b) {
    std::erase_if(bridges, [b](const auto& p) { return p.get() == b; });
  }
};

// Copies between one end of a socket pair and libnice's pollable stream, without blocking: all on the
// engine's GLib thread. Each direction holds at most one chunk in flight; while it cannot be written
// on, its source stops reading (flow control), and reading resumes once the chunk is out. The input
// source also drives libnice's sockets (STUN answers and checks, pseudo-TCP ACKs): it runs from the
// start of gathering and pauses only while the caller does not read, as a TCP receiver's window would.
struct Bridge : std::enable_shared_from_this<Bridge> {
  static constexpr std::size_t CHUNK = 64 * 1024;

  Engine::Impl* engine = nullptr;  // owns this bridge
  NiceAgent* agent = nullptr;      // references of our own
  GIOStream* io = nullptr;
  int fd = -1;
  GSource *peer_in = nullptr, *peer_out = nullptr, *fd_in = nullptr, *fd_out = nullptr;
  std::string down, up;  // read from the peer / from the caller, not yet written on
  bool finishing = false;

  ~Bridge() {
    for (GSource* s : {peer_in, peer_out, fd_in, fd_out}) drop(s);
    if (fd >= 0) ::close(fd);
    if (io) g_object_unref(io);
    if (agent) g_object_unref(agent);
  }

  void start() {
    watch_peer_in();
    watch_fd_in();
  }

  // The caller's end closed, the peer failed, or the attempt was given up: tell the far end (a
  // pseudo-TCP FIN, when we got that far), give the FIN a moment to leave, then let go.
  void finish() {
    if (finishing) return;
    finishing = true;
    for (GSource** s : {&peer_in, &peer_out, &fd_in, &fd_out}) drop(std::exchange(*s, nullptr));
    ::shutdown(fd, SHUT_RDWR);
    g_output_stream_close(g_io_stream_get_output_stream(io), nullptr, nullptr);
    call_later(engine->ctx, std::chrono::seconds(2),
               [self = shared_from_this()] { self->engine->forget(self.get()); });
  }

 private:
  static void drop(GSource* s) {
    if (!s) return;
    g_source_destroy(s);
    g_source_unref(s);
  }
  GPollableInputStream* input() { return G_POLLABLE_INPUT_STREAM(g_io_stream_get_input_stream(io)); }
  GPollableOutputStream* output() { return G_POLLABLE_OUTPUT_STREAM(g_io_stream_get_output_stream(io)); }

  // Sources call back with a weak reference: a finished bridge may be gone before they are destroyed.
  template <class Fn>
  static gboolean call(gpointer p, Fn fn) {
    if (auto self = static_cast<std::weak_ptr<Bridge>*>(p)->lock(); self && !self->finishing)
      return fn(*self);
    return G_SOURCE_REMOVE;
  }
  // Sources of other kinds call back with other signatures; GLib's G_SOURCE_FUNC casts the same way.
  template <class F>
  static GSourceFunc source_func(F* f) {
    return reinterpret_cast<GSourceFunc>(reinterpret_cast<void (*)()>(f));
  }
  GSource* attach(GSource* s, GSourceFunc fn) {
    g_source_set_callback(s, fn, new std::weak_ptr<Bridge>(weak_from_this()),
                          [](gpointer p) { delete static_cast<std::weak_ptr<Bridge>*>(p); });
    g_source_attach(s, engine->ctx);
    return s;
  }

  void watch_peer_in() {
    auto fn =
        +[](GObject*, gpointer p) -> gboolean { return call(p, [](Bridge& b) { return b.from_peer(); }); };
    peer_in = attach(g_pollable_input_stream_create_source(input(), nullptr), source_func(fn));
  }
  void watch_peer_out() {
    auto fn =
        +[](GObject*, gpointer p) -> gboolean { return call(p, [](Bridge& b) { return b.to_peer(); }); };
    peer_out = attach(g_pollable_output_stream_create_source(output(), nullptr), source_func(fn));
  }
  void watch_fd(GSource** slot, GIOCondition cond, gboolean (*fn)(gint, GIOCondition, gpointer)) {
    *slot = attach(g_unix_fd_source_new(fd, cond), source_func(fn));
  }
  void watch_fd_in() {
    watch_fd(
        &fd_in, GIOCondition(G_IO_IN | G_IO_HUP | G_IO_ERR), +[](gint, GIOCondition, gpointer p) -> gboolean {
          return call(p, [](Bridge& b) { return b.from_caller(); });
        });
  }
  void watch_fd_out() {
    watch_fd(
        &fd_out, GIOCondition(G_IO_OUT | G_IO_HUP | G_IO_ERR),
        +[](gint, GIOCondition, gpointer p) -> gboolean {
          return call(p, [](Bridge& b) { return b.to_caller(); });
        });
  }

  // peer -> caller
  gboolean from_peer() {
    char buf[CHUNK];
    GError* err = nullptr;
    const auto n = g_pollable_input_stream_read_nonblocking(input(), buf, sizeof buf, nullptr, &err);
    if (n < 0) {
      const bool again = g_error_matches(err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
      g_error_free(err);
      if (again) return G_SOURCE_CONTINUE;
      finish();
      return G_SOURCE_REMOVE;
    }
    if (n == 0) {  // the peer closed its side: the caller reads end-of-stream
      ::shutdown(fd, SHUT_WR);
      g_source_unref(std::exchange(peer_in, nullptr));
      return G_SOURCE_REMOVE;
    }
    down.assign(buf, static_cast<std::size_t>(n));
    if (to_caller() == G_SOURCE_CONTINUE) {  // the caller is not reading: pause until it does
      g_source_unref(std::exchange(peer_in, nullptr));
      return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
  }
  // Returns G_SOURCE_CONTINUE while bytes are left (waiting for the caller's socket to take them).
  gboolean to_caller() {
    while (!down.empty()) {
      const auto w = ::send(fd, down.data(), down.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (!fd_out) watch_fd_out();
        return G_SOURCE_CONTINUE;
      }
      if (w <= 0) {
        finish();
        return G_SOURCE_REMOVE;
      }
      down.erase(0, static_cast<std::size_t>(w));
    }
    if (fd_out) g_source_unref(std::exchange(fd_out, nullptr));  // (it returns REMOVE below)
    if (!peer_in && !finishing) watch_peer_in();
    return G_SOURCE_REMOVE;
  }

  // caller -> peer
  gboolean from_caller() {
    char buf[CHUNK];
    const auto n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return G_SOURCE_CONTINUE;
    if (n <= 0) {  // the caller closed its end
      g_source_unref(std::exchange(fd_in, nullptr));
      finish();
      return G_SOURCE_REMOVE;
    }
    up.assign(buf, static_cast<std::size_t>(n));
    if (to_peer() == G_SOURCE_CONTINUE) {  // the peer's window is full: stop reading the caller
      g_source_unref(std::exchange(fd_in, nullptr));
      return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
  }
  gboolean to_peer() {
    while (!up.empty()) {
      GError* err = nullptr;
      const auto w =
          g_pollable_output_stream_write_nonblocking(output(), up.data(), up.size(), nullptr, &err);
      if (w < 0) {
        const bool again = g_error_matches(err, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
        g_error_free(err);
        if (!again) {
          finish();
          return G_SOURCE_REMOVE;
        }
        if (!peer_out) watch_peer_out();
        return G_SOURCE_CONTINUE;
      }
      up.erase(0, static_cast<std::size_t>(w));
    }
    if (peer_out) g_source_unref(std::exchange(peer_out, nullptr));
    if (!fd_in && !finishing) watch_fd_in();
    return G_SOURCE_REMOVE;
  }
};

Engine::Impl::~Impl() {
  bridges.clear();
  g_main_loop_unref(loop);
  g_main_context_unref(ctx);
}

namespace {

class LinkImpl final : public Link, public std::enable_shared_from_this<LinkImpl> {
 public:
  LinkImpl(std::shared_ptr<Engine::Impl> engine, Options options)
      : m_engine(std::move(engine)), m_options(std::move(options)) {}

  ~LinkImpl() override {
    if (!m_agent) return;
    // Signal handlers point at m_self; disconnect them on the agent's thread before freeing it.
    invoke(m_engine->ctx, [agent = m_agent, self = m_self, timer = m_timer, bridge = m_bridge, fd = m_fd] {
      if (bridge) bridge->finish();
      if (fd >= 0) ::close(fd);
      if (timer) {
        g_source_destroy(timer);
        g_source_unref(timer);
      }
      g_signal_handlers_disconnect_by_data(agent, self);
      delete self;
      g_object_unref(agent);
    });
  }

  void gather(std::function<void(Result<Candidates>)> done) override {
    invoke(m_engine->ctx, [self = shared_from_this(), done = std::move(done)]() mutable {
      self->start_gathering(std::move(done));
    });
  }

  void connect(Candidates remote, std::function<void(Result<Stream>)> done) override {
    invoke(m_engine->ctx,
           [self = shared_from_this(), remote = std::move(remote), done = std::move(done)]() mutable {
             self->start_checks(std::move(remote), std::move(done));
           });
  }

  void cancel() override {
    invoke(m_engine->ctx, [self = shared_from_this()] {
      self->fail_gathering(failed("cancelled"));
      self->fail_checks(failed("cancelled"));
    });
  }

 private:
  enum class State { idle, gathering, gathered, checking, done };

  void start_gathering(std::function<void(Result<Candidates>)> done) {
    if (m_state != State::idle) return done(tl::unexpected(failed("ICE candidates were gathered already")));
    m_agent = nice_agent_new_reliable(m_engine->ctx, NICE_COMPATIBILITY_RFC5245);
    // No UPnP (a router is never asked for anything behind the user's back; the node's own port
    // mapping is libtorrent's business), UDP only, and STUN retries short enough that a silent
    // server costs seconds, not the RFC's 39.5 s.
    g_object_set(m_agent, "controlling-mode", static_cast<gboolean>(m_options.controlling), "upnp", FALSE,
                 "ice-tcp", FALSE, "stun-max-retransmissions", 4u, "stun-initial-timeout", 400u, nullptr);
    if (m_options.stun_port)
      g_object_set(m_agent, "stun-server", m_options.stun_host.c_str(), "stun-server-port",
                   static_cast<guint>(m_options.stun_port), nullptr);
    for (const auto& ip : m_options.addresses) {
      NiceAddress a;
      nice_address_init(&a);
      if (!nice_address_set_from_string(&a, ip.c_str()))
        return done(tl::unexpected(bad("'" + ip + "' is not an IP address")));
      nice_agent_add_local_address(m_agent, &a);
    }
    m_stream = nice_agent_add_stream(m_agent, 1);
    m_self = new std::weak_ptr<LinkImpl>(weak_from_this());
    g_signal_connect(m_agent, "candidate-gathering-done", G_CALLBACK(&LinkImpl::gathering_done_cb), m_self);
    g_signal_connect(m_agent, "component-state-changed", G_CALLBACK(&LinkImpl::state_cb), m_self);
    m_gathered = std::move(done);
    m_state = State::gathering;
    if (!m_stream || !nice_agent_gather_candidates(m_agent, m_stream))
      return fail_gathering(failed("cannot gather ICE candidates: no usable local address"));
    // After gathering began, not before: the stream's source watches the sockets that exist when it
    // is made, and the host candidates' sockets are made by nice_agent_gather_candidates.
    if (auto e = open_bridge(); !e) fail_gathering(e.error());
  }

  static void gathering_done_cb(NiceAgent*, guint, gpointer p) {
    if (auto self = static_cast<std::weak_ptr<LinkImpl>*>(p)->lock()) self->on_gathered();
  }
  static void state_cb(NiceAgent*, guint, guint, guint state, gpointer p) {
    if (auto self = static_cast<std::weak_ptr<LinkImpl>*>(p)->lock()) self->on_state(state);
  }

  void on_gathered() {
    if (m_state != State::gathering) return;
    Candidates c;
    gchar *ufrag = nullptr, *pwd = nullptr;
    if (nice_agent_get_local_credentials(m_agent, m_stream, &ufrag, &pwd)) {
      c.ufrag = ufrag;
      c.pwd = pwd;
    }
    g_free(ufrag);
    g_free(pwd);
    // Server-reflexive (and relayed) candidates first: behind a NAT they are the ones that can work,
    // and a host with many interfaces must not crowd them out of MAX_CANDIDATES.
    GSList* list = nice_agent_get_local_candidates(m_agent, m_stream, 1);
    std::vector<std::string> host, other;
    for (GSList* i = list; i; i = i->next) {
      auto* cand = static_cast<NiceCandidate*>(i->data);
      gchar* sdp = nice_agent_generate_local_candidate_sdp(m_agent, cand);
      if (sdp) (cand->type == NICE_CANDIDATE_TYPE_HOST ? host : other).emplace_back(sdp);
      g_free(sdp);
    }
    g_slist_free_full(list, reinterpret_cast<GDestroyNotify>(&nice_candidate_free));
    c.lines = std::move(other);
    for (auto& h : host) c.lines.push_back(std::move(h));
    if (c.lines.size() > MAX_CANDIDATES) c.lines.resize(MAX_CANDIDATES);
    if (c.lines.empty() || c.ufrag.empty()) return fail_gathering(failed("ICE found no local candidate"));
    m_state = State::gathered;
    std::exchange(m_gathered, nullptr)(std::move(c));
  }

  void start_checks(Candidates remote, std::function<void(Result<Stream>)> done) {
    if (m_state != State::gathered)
      return done(tl::unexpected(failed("connect() before the ICE candidates were gathered")));
    if (auto why = check_candidates(remote); !why.empty())
      return done(tl::unexpected(bad("the peer sent " + why)));
    if (!nice_agent_set_remote_credentials(m_agent, m_stream, remote.ufrag.c_str(), remote.pwd.c_str()))
      return done(tl::unexpected(bad("the peer's ICE credentials were refused")));
    GSList* list = nullptr;
    for (const auto& line : remote.lines)
      if (NiceCandidate* cand = nice_agent_parse_remote_candidate_sdp(m_agent, m_stream, line.c_str()))
        list = g_slist_append(list, cand);
    if (!list) return done(tl::unexpected(bad("none of the peer's ICE candidates could be read")));
    m_connected = std::move(done);
    m_state = State::checking;
    m_timer = call_later(m_engine->ctx, m_options.timeout, [w = weak_from_this()] {
      if (auto self = w.lock()) {
        g_source_unref(std::exchange(self->m_timer, nullptr));
        self->fail_checks(failed("ICE found no working UDP path in time"));
      }
    });
    const int added = nice_agent_set_remote_candidates(m_agent, m_stream, 1, list);
    g_slist_free_full(list, reinterpret_cast<GDestroyNotify>(&nice_candidate_free));
    if (added < 1) fail_checks(bad("libnice took none of the peer's ICE candidates"));
  }

  void on_state(guint state) {
    if (m_state != State::checking) return;
    if (state == NICE_COMPONENT_STATE_FAILED) return fail_checks(failed("ICE found no working UDP path"));
    if (state == NICE_COMPONENT_STATE_READY) established();
  }

  // The socket pair and its copies, as gathering begins (see the top of this file).
  Status open_bridge() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
      return tl::unexpected(failed(std::string("cannot make a socket pair: ") + std::strerror(errno)));
    m_bridge = std::make_shared<Bridge>();
    m_bridge->engine = m_engine.get();
    m_bridge->agent = static_cast<NiceAgent*>(g_object_ref(m_agent));
    m_bridge->io = nice_agent_get_io_stream(m_agent, m_stream, 1);
    m_bridge->fd = fds[1];
    m_fd = fds[0];
    m_engine->bridges.push_back(m_bridge);
    m_bridge->start();
    return {};
  }

  void established() {
    Stream out;
    NiceCandidate *local = nullptr, *remote = nullptr;
    if (nice_agent_get_selected_pair(m_agent, m_stream, 1, &local, &remote)) {
      out.local = address_text(local->addr);
      out.remote = address_text(remote->addr);
    }
    m_bridge = nullptr;  // the engine keeps it until either end closes
    out.fd = std::exchange(m_fd, -1);
    stop_timer();
    m_state = State::done;
    std::exchange(m_connected, nullptr)(std::move(out));
  }

  // An attempt that did not get through: its reader stops, its socket pair closes.
  void close_bridge() {
    if (m_bridge) std::exchange(m_bridge, nullptr)->finish();
    if (m_fd >= 0) ::close(std::exchange(m_fd, -1));
  }

  void fail_gathering(Error e) {
    if (m_state != State::gathering) return;
    close_bridge();
    m_state = State::done;
    std::exchange(m_gathered, nullptr)(tl::unexpected(std::move(e)));
  }
  void fail_checks(Error e) {
    if (m_state != State::checking) return;
    stop_timer();
    close_bridge();
    m_state = State::done;
    std::exchange(m_connected, nullptr)(tl::unexpected(std::move(e)));
  }
  void stop_timer() {
    if (!m_timer) return;
    g_source_destroy(m_timer);
    g_source_unref(std::exchange(m_timer, nullptr));
  }

  std::shared_ptr<Engine::Impl> m_engine;
  Options m_options;
  State m_state = State::idle;
  NiceAgent* m_agent = nullptr;
  guint m_stream = 0;
  std::weak_ptr<LinkImpl>* m_self = nullptr;  // the signal handlers' user data, freed with the agent
  GSource* m_timer = nullptr;
  std::shared_ptr<Bridge> m_bridge;  // until established: it drives libnice; the caller's end waits in m_fd
  int m_fd = -1;
  std::function<void(Result<Candidates>)> m_gathered;
  std::function<void(Result<Stream>)> m_connected;
};

}  // namespace

Engine::Engine() : m_impl(std::make_shared<Impl>()) { m_impl->start(); }

Engine::~Engine() { m_impl->stop(); }

std::shared_ptr<Link> Engine::create(Options options) {
  return std::make_shared<LinkImpl>(m_impl, std::move(options));
}

}  // namespace kith::ice
