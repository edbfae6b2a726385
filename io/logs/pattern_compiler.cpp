#include "io/logs/pattern_compiler.hpp"

#include <hs/hs.h>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <system_error>
#include <unistd.h>
#include <vector>

extern char** environ;

namespace vigil {

void hs_database_deleter::operator()(hs_database* database) const noexcept {
  hs_free_database(database);
}

namespace {

constexpr int refused_status = 3;

std::string child_executable; // set once at start, before any thread compiles

// Serialized databases by their patterns (the child's JSON input). The same sets are compiled
// several times at start (config check, log sources, journal) and again on each reload; a
// child costs an exec, which on a loaded host holds the calling actor's thread for long.
// A rule change adds an entry, so the cache is bounded: the oldest entries go first.
class serialized_databases {
public:
  std::optional<std::string> find(const std::string& key) {
    std::lock_guard lock{mutex_};
    auto it = entries_.find(key);
    if (it == entries_.end())
      return std::nullopt;
    return it->second.bytes;
  }

  void insert(const std::string& key, std::string bytes) {
    std::lock_guard lock{mutex_};
    if (entries_.size() >= capacity && !entries_.contains(key)) {
      auto oldest = entries_.begin();
      for (auto it = entries_.begin(); it != entries_.end(); ++it)
        if (it->second.inserted < oldest->second.inserted)
          oldest = it;
      entries_.erase(oldest);
    }
    entries_[key] = {std::move(bytes), ++inserted_};
  }

  void clear() {
    std::lock_guard lock{mutex_};
    entries_.clear();
  }

private:
  static constexpr std::size_t capacity = 16;
  struct entry {
    std::string bytes;
    uint64_t inserted = 0;
  };
  std::mutex mutex_;
  std::map<std::string, entry> entries_;
  uint64_t inserted_ = 0;
};

serialized_databases compiled_in_child;

hs_database_ptr deserialize(const std::string& bytes) {
  hs_database* database = nullptr;
  if (hs_deserialize_database(bytes.data(), bytes.size(), &database) != HS_SUCCESS)
    throw std::runtime_error("pattern compiler: the child's database does not deserialize");
  return hs_database_ptr{database};
}

hs_database_ptr compile_here(std::span<const hyperscan_pattern> patterns) {
  std::vector<const char*> expressions;
  std::vector<unsigned> flags;
  std::vector<unsigned> ids;
  for (const auto& p : patterns) {
    expressions.push_back(p.expression.c_str());
    flags.push_back(p.flags);
    ids.push_back(p.id);
  }
  hs_database* database = nullptr;
  hs_compile_error_t* error = nullptr;
  if (hs_compile_multi(expressions.data(), flags.data(), ids.data(),
                       static_cast<unsigned>(patterns.size()), HS_MODE_BLOCK, nullptr, &database,
                       &error) != HS_SUCCESS) {
    std::string message = error ? error->message : "unknown error";
    int index = error ? error->expression : -1;
    hs_free_compile_error(error);
    throw pattern_compile_error(index, message);
  }
  return hs_database_ptr{database};
}

[[noreturn]] void fail(const std::string& what, int error) {
  throw std::system_error(error, std::generic_category(), "pattern compiler: " + what);
}

class file_descriptor {
public:
  explicit file_descriptor(int fd = -1) noexcept
      : fd_(fd) {}
  ~file_descriptor() { reset(); }
  file_descriptor(const file_descriptor&) = delete;
  file_descriptor& operator=(const file_descriptor&) = delete;
  int get() const noexcept { return fd_; }
  void reset() noexcept {
    if (fd_ >= 0)
      ::close(fd_);
    fd_ = -1;
  }

private:
  int fd_;
};

void write_all(int fd, const std::string& text) {
  for (std::size_t done = 0; done < text.size();) {
    auto n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      fail("writing the patterns", errno);
    done += static_cast<std::size_t>(n);
  }
}

std::string read_all(int fd) {
  std::string out;
  char buffer[65536];
  while (true) {
    auto n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      fail("reading the database", errno);
    if (n == 0)
      return out;
    out.append(buffer, static_cast<std::size_t>(n));
  }
}

// Runs the child with the patterns as its stdin (a memory file: written before the child
// starts, so neither side can block on a full pipe) and collects its stdout.
hs_database_ptr compile_in_child(std::span<const hyperscan_pattern> patterns) {
  nlohmann::json input = nlohmann::json::array();
  for (const auto& p : patterns)
    input.push_back({{"expression", p.expression}, {"flags", p.flags}, {"id", p.id}});
  auto key = input.dump();
  if (auto bytes = compiled_in_child.find(key))
    return deserialize(*bytes);
  file_descriptor in{::memfd_create("vigil-patterns", MFD_CLOEXEC)};
  if (in.get() < 0)
    fail("memfd_create", errno);
  write_all(in.get(), key);
  if (::lseek(in.get(), 0, SEEK_SET) < 0)
    fail("lseek", errno);
  int out_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0)
    fail("pipe", errno);
  file_descriptor out_read{out_pipe[0]};
  file_descriptor out_write{out_pipe[1]};

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in.get(), STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, out_write.get(), STDOUT_FILENO);
  std::string arg0 = child_executable;
  std::string arg1 = "compile-patterns";
  char* argv[] = {arg0.data(), arg1.data(), nullptr};
  pid_t pid = 0;
  int spawned = ::posix_spawn(&pid, child_executable.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0)
    fail("cannot run " + child_executable, spawned);
  out_write.reset();
  std::string output;
  int read_error = 0;
  try {
    output = read_all(out_read.get());
  } catch (const std::system_error& e) {
    read_error = e.code().value();
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      fail("waitpid", errno);
  if (read_error != 0)
    fail("reading the database", read_error);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    auto database = deserialize(output);
    compiled_in_child.insert(key, std::move(output));
    return database;
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == refused_status) {
    auto refusal = nlohmann::json::parse(output, nullptr, false);
    if (refusal.is_object() && refusal.contains("index") && refusal.contains("message"))
      throw pattern_compile_error(refusal["index"].get<int>(),
                                  refusal["message"].get<std::string>());
  }
  throw std::runtime_error("pattern compiler: " + child_executable + " compile-patterns " +
                           (WIFEXITED(status)
                                ? "exited with status " + std::to_string(WEXITSTATUS(status))
                                : "was killed by signal " + std::to_string(WTERMSIG(status))));
}

} // namespace

hs_database_ptr compile_patterns(std::span<const hyperscan_pattern> patterns) {
  return child_executable.empty() ? compile_here(patterns) : compile_in_child(patterns);
}

void compile_patterns_in_child(std::string executable) {
  child_executable = std::move(executable);
  compiled_in_child.clear(); // its databases came from the previous compiler
}

int run_pattern_compiler(std::istream& in, std::ostream& out) {
  auto input = nlohmann::json::parse(in, nullptr, false);
  if (!input.is_array()) {
    std::cerr << "vigil compile-patterns: stdin is not a JSON array of patterns\n";
    return 1;
  }
  std::vector<hyperscan_pattern> patterns;
  try {
    for (const auto& p : input)
      patterns.push_back({p.at("expression").get<std::string>(), p.at("flags").get<unsigned>(),
                          p.at("id").get<unsigned>()});
  } catch (const nlohmann::json::exception& e) {
    std::cerr << "vigil compile-patterns: " << e.what() << "\n";
    return 1;
  }
  try {
    auto database = compile_here(patterns);
    char* bytes = nullptr;
    std::size_t length = 0;
    if (hs_serialize_database(database.get(), &bytes, &length) != HS_SUCCESS) {
      std::cerr << "vigil compile-patterns: hs_serialize_database failed\n";
      return 1;
    }
    out.write(bytes, static_cast<std::streamsize>(length));
    std::free(bytes);
  } catch (const pattern_compile_error& e) {
    out << nlohmann::json{{"index", e.index()}, {"message", e.what()}}.dump();
    return refused_status;
  }
  out.flush();
  return out ? 0 : 1;
}

} // namespace vigil
