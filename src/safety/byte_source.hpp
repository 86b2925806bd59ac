#pragma once
// A file as the scanner reads it while its bytes may still be arriving (a download in progress). The
// owner (the release pipeline) builds one over swarm's FileReader; tests build them over local files.
// safety itself knows nothing of where the bytes come from.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "base/error.hpp"

namespace kith::safety {

struct ByteSource {
  using Deadline = std::chrono::steady_clock::time_point;
  std::uint64_t size = 0;  // the file's final size, known up front (from the torrent's file list)
  std::string name;        // for logs and findings, and for the runnable check's extension; never opened
  // Reads min(count, size - offset) bytes at `offset` into `buf`, waiting for them until `deadline` at the
  // latest; may return fewer (never 0 while offset < size). Any error, including "not there by the
  // deadline", aborts the scan, which then has no verdict. Called from the scanning thread only, one call
  // at a time; it must only ever hand out the file's real, verified bytes.
  std::function<Result<std::size_t>(void* buf, std::size_t count, std::uint64_t offset, Deadline deadline)>
      read;
};

}  // namespace kith::safety
