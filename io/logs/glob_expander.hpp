#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace vigil {

// Config path patterns: shell wildcards per path component ('*', '?', '[...]'; a leading '.'
// must be matched literally) and "**" for any number of directories, e.g. "/var/log/*.log",
// "/var/log/app/**/*.log". "**" does not follow symlinked directories (no loops).
class glob_expander {
public:
  // Throws std::invalid_argument for an empty pattern.
  explicit glob_expander(std::vector<std::string> patterns);

  // Existing regular files (symlinks followed) matching any pattern: sorted, no duplicates.
  std::vector<std::filesystem::path> expand() const;
  // Whether `file` fits a pattern, by name only (for a file an inotify event just announced).
  bool matches(const std::filesystem::path& file) const;
  // Existing directories in which a created or renamed entry can produce a new match: what to
  // watch with inotify. Sorted, no duplicates.
  std::vector<std::filesystem::path> watch_directories() const;

  const std::vector<std::string>& patterns() const noexcept { return patterns_; }

private:
  std::vector<std::string> patterns_;
  std::vector<std::vector<std::string>> components_; // per pattern; "/" first when absolute
};

} // namespace vigil
