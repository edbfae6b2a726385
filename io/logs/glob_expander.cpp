#include "io/logs/glob_expander.hpp"

#include <algorithm>
#include <fnmatch.h>
#include <set>
#include <stdexcept>
#include <sys/stat.h>

namespace vigil {

namespace fs = std::filesystem;

namespace {

bool has_wildcard(const std::string& component) {
  return component.find_first_of("*?[") != std::string::npos;
}

bool component_matches(const std::string& pattern, const std::string& name) {
  return ::fnmatch(pattern.c_str(), name.c_str(), FNM_PERIOD) == 0;
}

std::vector<std::string> split(const fs::path& path) {
  std::vector<std::string> parts;
  for (const auto& part : path.lexically_normal()) {
    auto text = part.string();
    if (text.empty() || text == ".")
      continue;
    parts.push_back(text);
  }
  return parts;
}

bool names_regular_file(const fs::path& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool is_real_directory(const fs::directory_entry& entry) {
  std::error_code ec;
  return entry.is_directory(ec) && !entry.is_symlink(ec);
}

struct walk_results {
  std::set<fs::path>* files = nullptr;
  std::set<fs::path>* directories = nullptr;
};

// `base` has matched components [0, index); match the rest below it.
void walk(const fs::path& base, const std::vector<std::string>& parts, std::size_t index,
          const walk_results& out) {
  if (index == parts.size()) {
    if (out.files && names_regular_file(base))
      out.files->insert(base);
    return;
  }
  const auto& part = parts[index];
  if (base.empty() && part == "/") {
    walk(part, parts, index + 1, out);
    return;
  }
  fs::path dir = base.empty() ? fs::path(".") : base;
  if (!has_wildcard(part)) {
    // Only the directory holding the file name matters for watching; literal parents are
    // expected to exist (a periodic rescan covers them appearing later).
    std::error_code ec;
    if (out.directories && index + 1 == parts.size() && fs::is_directory(dir, ec))
      out.directories->insert(dir);
    walk(base / part, parts, index + 1, out);
    return;
  }
  std::error_code ec;
  if (!fs::is_directory(dir, ec))
    return;
  if (out.directories)
    out.directories->insert(dir);
  if (part == "**")
    walk(base, parts, index + 1, out); // zero directories
  for (fs::directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end;
       !ec && it != end; it.increment(ec)) {
    auto name = it->path().filename().string();
    if (part == "**") {
      if (name.front() != '.' && is_real_directory(*it))
        walk(base / name, parts, index, out);
    } else if (component_matches(part, name)) {
      walk(base / name, parts, index + 1, out);
    }
  }
}

bool match_parts(const std::vector<std::string>& pattern, std::size_t p,
                 const std::vector<std::string>& path, std::size_t f) {
  if (p == pattern.size())
    return f == path.size();
  if (pattern[p] == "**") {
    for (std::size_t skip = f; skip <= path.size(); ++skip) {
      if (match_parts(pattern, p + 1, path, skip))
        return true;
      if (skip < path.size() && path[skip].front() == '.')
        return false; // "**" does not descend into hidden directories
    }
    return false;
  }
  if (f == path.size())
    return false;
  bool same =
      has_wildcard(pattern[p]) ? component_matches(pattern[p], path[f]) : pattern[p] == path[f];
  return same && match_parts(pattern, p + 1, path, f + 1);
}

} // namespace

glob_expander::glob_expander(std::vector<std::string> patterns)
    : patterns_(std::move(patterns)) {
  for (const auto& pattern : patterns_) {
    if (pattern.empty())
      throw std::invalid_argument("empty log path pattern");
    components_.push_back(split(pattern));
    if (components_.back().empty())
      throw std::invalid_argument("log path pattern names no file: '" + pattern + "'");
  }
}

std::vector<fs::path> glob_expander::expand() const {
  std::set<fs::path> files;
  for (const auto& parts : components_)
    walk({}, parts, 0, {&files, nullptr});
  return {files.begin(), files.end()};
}

std::vector<fs::path> glob_expander::watch_directories() const {
  std::set<fs::path> directories;
  for (const auto& parts : components_)
    walk({}, parts, 0, {nullptr, &directories});
  return {directories.begin(), directories.end()};
}

bool glob_expander::matches(const fs::path& file) const {
  auto parts = split(file);
  return std::any_of(components_.begin(), components_.end(),
                     [&](const auto& pattern) { return match_parts(pattern, 0, parts, 0); });
}

} // namespace vigil
