#include "io/system/system_profile.hpp"

#include "io/proc/cpu_info.hpp"
#include "io/proc/memory_info.hpp"
#include "io/system/host_info.hpp"

#include <fstream>
#include <sys/statvfs.h>
#include <sys/utsname.h>

namespace vigil {

namespace {

// KEY=value or KEY="value" lines (os-release(5)).
void read_os_release(const std::filesystem::path& root, system_profile& p) {
  std::ifstream in{root / "etc/os-release"};
  if (!in)
    in.open(root / "usr/lib/os-release");
  for (std::string line; std::getline(in, line);) {
    auto eq = line.find('=');
    if (eq == std::string::npos)
      continue;
    auto key = line.substr(0, eq);
    auto value = line.substr(eq + 1);
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
        value.back() == value.front())
      value = value.substr(1, value.size() - 2);
    if (key == "PRETTY_NAME")
      p.os_name = value;
    else if (key == "ID")
      p.os_id = value;
    else if (key == "VERSION_ID")
      p.os_version = value;
  }
}

std::string first_line(const std::filesystem::path& file) {
  std::ifstream in{file};
  std::string line;
  std::getline(in, line);
  return line;
}

} // namespace

system_profile read_system_profile(const std::filesystem::path& root) {
  system_profile p;
  read_os_release(root, p);
  utsname u{};
  if (::uname(&u) == 0) {
    p.kernel = u.release;
    p.architecture = u.machine;
  }
  auto host = read_host_info((root / "proc/net/route").string());
  p.hostname = host.hostname;
  p.primary_ip = host.primary_ip;
  p.ips = host.ips;
  if (!host.primary_interface.empty())
    p.mac_address = first_line(root / "sys/class/net" / host.primary_interface / "address");
  try {
    p.memory_total_bytes = proc::memory_info_reader{root}.read().total;
  } catch (const std::exception&) {
    // left 0: unknown
  }
  try {
    auto cpu = proc::cpu_info_reader{root}.read();
    p.logical_cores = cpu.logical_cores;
    p.physical_cores = cpu.physical_cores;
    p.cpu_model = cpu.model_name;
  } catch (const std::exception&) {
    // left empty: unknown
  }
  struct statvfs fs {};
  if (::statvfs(root.c_str(), &fs) == 0)
    p.disk_total_bytes = static_cast<uint64_t>(fs.f_blocks) * fs.f_frsize;
  return p;
}

} // namespace vigil
