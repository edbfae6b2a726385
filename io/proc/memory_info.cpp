#include "io/proc/memory_info.hpp"

#include "io/proc/text_scan.hpp"

#include <stdexcept>

namespace vigil::proc {

using namespace detail;

memory_info parse_memory_info(std::string_view text, std::string_view origin) {
  memory_info m;
  std::uint64_t sreclaimable = 0;
  bool have_total = false, have_available = false;
  while (!text.empty()) {
    auto line = next_line(text);
    auto colon = line.find(':');
    if (colon == std::string_view::npos)
      continue;
    auto key = line.substr(0, colon);
    auto rest = line.substr(colon + 1);
    std::uint64_t value = 0;
    if (!next_integer(rest, value))
      continue;
    if (next_token(rest) == "kB")
      value *= 1024;
    if (key == "MemTotal") {
      m.total = value;
      have_total = true;
    } else if (key == "MemFree") {
      m.free = value;
    } else if (key == "MemAvailable") {
      m.available = value;
      have_available = true;
    } else if (key == "Buffers") {
      m.buffers = value;
    } else if (key == "Cached") {
      m.cached = value;
    } else if (key == "SReclaimable") {
      sreclaimable = value;
    } else if (key == "Shmem") {
      m.shared = value;
    } else if (key == "SwapTotal") {
      m.swap_total = value;
    } else if (key == "SwapFree") {
      m.swap_free = value;
    }
  }
  if (!have_total)
    throw std::runtime_error(std::string(origin) + ": no MemTotal line");
  m.cached += sreclaimable;
  if (!have_available) {
    m.available = m.free + m.buffers + m.cached;
    m.available_estimated = true;
  }
  if (m.available > m.total)
    m.available = m.total;
  m.used = m.total - m.available;
  m.swap_used = m.swap_total > m.swap_free ? m.swap_total - m.swap_free : 0;
  if (m.total > 0)
    m.used_percent = 100.0 * static_cast<double>(m.used) / static_cast<double>(m.total);
  if (m.swap_total > 0)
    m.swap_used_percent =
        100.0 * static_cast<double>(m.swap_used) / static_cast<double>(m.swap_total);
  return m;
}

memory_info_reader::memory_info_reader(const std::filesystem::path& root)
    : path_(path_under(root, "proc/meminfo")) {}

memory_info memory_info_reader::read() {
  return parse_memory_info(file_.read(path_), path_);
}

} // namespace vigil::proc
