#pragma once

// Starts a program (the real vigil binary, a broker script) for a test, captures its
// output in a file, and ends it by PID only — never by name.

#include <chrono>
#include <fcntl.h>
#include <fstream>
#include <optional>
#include <signal.h>
#include <spawn.h>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

extern char** environ;

namespace vigil::test {

class child_process {
public:
  child_process(std::vector<std::string> argv, std::string output_path,
                std::vector<std::string> extra_env = {})
      : output_path_(std::move(output_path)) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, output_path_.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    std::vector<char*> args;
    for (auto& a : argv)
      args.push_back(a.data());
    args.push_back(nullptr);
    std::vector<std::string> env_storage;
    for (char** e = environ; *e != nullptr; ++e)
      env_storage.emplace_back(*e);
    for (auto& e : extra_env)
      env_storage.push_back(e);
    std::vector<char*> env;
    for (auto& e : env_storage)
      env.push_back(e.data());
    env.push_back(nullptr);
    if (posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), env.data()) != 0)
      pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
  }

  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  ~child_process() {
    if (running()) {
      ::kill(pid_, SIGKILL);
      wait_for_exit(std::chrono::seconds{10});
    }
  }

  pid_t pid() const { return pid_; }
  bool started() const { return pid_ > 0; }

  bool running() {
    if (pid_ <= 0 || exit_code_)
      return false;
    int status = 0;
    auto r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      record(status);
      return false;
    }
    return r == 0;
  }

  void signal(int sig) {
    if (running())
      ::kill(pid_, sig);
  }

  /// The exit code (128+signal when killed), or nullopt if still running at the deadline.
  std::optional<int> wait_for_exit(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!exit_code_) {
      int status = 0;
      auto r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        record(status);
        break;
      }
      if (r < 0 || std::chrono::steady_clock::now() >= deadline)
        break;
      std::this_thread::sleep_for(std::chrono::milliseconds{5});
    }
    return exit_code_;
  }

  std::string output() const {
    std::ifstream in{output_path_};
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  /// Waits until the output contains `text`, the process exits, or the timeout passes.
  bool wait_for_output(const std::string& text, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (output().find(text) != std::string::npos)
        return true;
      if (!running())
        return output().find(text) != std::string::npos;
      std::this_thread::sleep_for(std::chrono::milliseconds{10});
    }
    return false;
  }

private:
  void record(int status) {
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  std::string output_path_;
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
};

} // namespace vigil::test
