// The mix of a room's calls and the WAV file it may go to (mixer.hpp).
#include "media/mixer.hpp"

#include <algorithm>
#include <limits>
#include <vector>

namespace kith::media {

Mixer::Mixer(std::size_t prime, std::size_t max_buffered)
    : m_prime(prime), m_max(std::max(prime, max_buffered)) {}

int Mixer::add_source() {
  std::lock_guard lock(m_mu);
  const int id = m_next++;
  m_sources[id];
  return id;
}

void Mixer::remove_source(int id) {
  std::lock_guard lock(m_mu);
  m_sources.erase(id);
}

void Mixer::push(int id, const std::int16_t* samples, std::size_t n) {
  std::lock_guard lock(m_mu);
  auto it = m_sources.find(id);
  if (it == m_sources.end()) return;
  auto& s = it->second;
  s.fifo.insert(s.fifo.end(), samples, samples + n);
  if (s.fifo.size() > m_max) {
    // Ahead of the pace we are pulled at: keep a primed FIFO's worth, the newest.
    s.fifo.erase(s.fifo.begin(), s.fifo.end() - static_cast<std::ptrdiff_t>(m_prime));
  }
  if (!s.primed && s.fifo.size() >= m_prime) {
    s.primed = true;
    m_started = true;
  }
}

bool Mixer::pull(std::int16_t* out, std::size_t n) {
  std::lock_guard lock(m_mu);
  if (!m_started) return false;
  std::vector<std::int32_t> sum(n, 0);
  for (auto& [id, s] : m_sources) {
    if (!s.primed) continue;
    const std::size_t take = std::min(n, s.fifo.size());
    for (std::size_t i = 0; i < take; ++i) sum[i] += s.fifo[i];
    s.fifo.erase(s.fifo.begin(), s.fifo.begin() + static_cast<std::ptrdiff_t>(take));
    if (take < n) s.primed = false;  // ran dry: silence until it has a cushion again
  }
  constexpr std::int32_t lo = std::numeric_limits<std::int16_t>::min(),
                         hi = std::numeric_limits<std::int16_t>::max();
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::int16_t>(std::clamp(sum[i], lo, hi));
  return true;
}

bool Mixer::started() const {
  std::lock_guard lock(m_mu);
  return m_started;
}

namespace {
void put_u32(std::FILE* f, std::uint32_t v) {
  const unsigned char b[4] = {static_cast<unsigned char>(v), static_cast<unsigned char>(v >> 8),
                              static_cast<unsigned char>(v >> 16), static_cast<unsigned char>(v >> 24)};
  std::fwrite(b, 1, 4, f);
}
void put_u16(std::FILE* f, std::uint16_t v) {
  const unsigned char b[2] = {static_cast<unsigned char>(v), static_cast<unsigned char>(v >> 8)};
  std::fwrite(b, 1, 2, f);
}
// A WAV's sizes are 32-bit: past about 12 hours of 48 kHz mono the file stops growing.
constexpr std::uint64_t MAX_DATA = std::numeric_limits<std::uint32_t>::max() - 64;
}  // namespace

WavWriter::~WavWriter() { close(); }

Status WavWriter::open(const std::string& path, int rate) {
  close();
  m_file = std::fopen(path.c_str(), "wb");
  if (!m_file)
    return tl::unexpected(Error{base::make_error_code(base::errc::unavailable), "cannot write " + path});
  m_rate = rate;
  m_samples = m_sized = 0;
  std::fwrite("RIFF", 1, 4, m_file);
  put_u32(m_file, 36);
  std::fwrite("WAVEfmt ", 1, 8, m_file);
  put_u32(m_file, 16);
  put_u16(m_file, 1);  // PCM
  put_u16(m_file, 1);  // mono
  put_u32(m_file, static_cast<std::uint32_t>(rate));
  put_u32(m_file, static_cast<std::uint32_t>(rate) * 2);
  put_u16(m_file, 2);   // bytes per frame
  put_u16(m_file, 16);  // bits per sample
  std::fwrite("data", 1, 4, m_file);
  put_u32(m_file, 0);
  std::fflush(m_file);
  return {};
}

void WavWriter::write(const std::int16_t* samples, std::size_t n) {
  if (!m_file) return;
  n = static_cast<std::size_t>(std::min<std::uint64_t>(n, MAX_DATA / 2 - m_samples));
  for (std::size_t i = 0; i < n; ++i)
    put_u16(m_file, static_cast<std::uint16_t>(samples[i]));  // little-endian
  m_samples += n;
  if (m_samples - m_sized >= static_cast<std::uint64_t>(m_rate)) write_sizes();
}

void WavWriter::write_sizes() {
  const auto data = static_cast<std::uint32_t>(m_samples * 2);
  std::fflush(m_file);
  const long end = std::ftell(m_file);
  std::fseek(m_file, 4, SEEK_SET);
  put_u32(m_file, 36 + data);
  std::fseek(m_file, 40, SEEK_SET);
  put_u32(m_file, data);
  std::fseek(m_file, end, SEEK_SET);
  std::fflush(m_file);
  m_sized = m_samples;
}

void WavWriter::close() {
  if (!m_file) return;
  write_sizes();
  std::fclose(m_file);
  m_file = nullptr;
}

}  // namespace kith::media
