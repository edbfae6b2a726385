#include "io/proc/command_line_scrubber.hpp"

#include <algorithm>
#include <cstddef>
#include <vector>

namespace vigil::proc {

namespace {

constexpr std::size_t npos = std::string_view::npos;

char lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c + ('a' - 'A')) : c;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != b[i])
      return false;
  return true;
}

// `suffix` is lower case.
bool iends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && iequals(s.substr(s.size() - suffix.size()), suffix);
}

bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

bool is_separator(char c) {
  return c == ' ' || c == '\0' || c == '\t' || c == '\n';
}
bool is_quote(char c) {
  return c == '\'' || c == '"';
}
bool is_key_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.';
}
bool is_component_separator(char c) {
  return c == '-' || c == '_' || c == '.';
}

std::string_view strip_quotes(std::string_view s) {
  while (!s.empty() && is_quote(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && is_quote(s.back()))
    s.remove_suffix(1);
  return s;
}

bool sensitive_component(std::string_view c) {
  static constexpr std::string_view suffixes[] = {
      "password",  "passwd",     "passphrase", "secret",     "token",       "apikey",
      "accesskey", "privatekey", "secretkey",  "credential", "credentials", "authorization"};
  static constexpr std::string_view names[] = {
      "pass", "pw", "pwd", "storepass", "keypass", "srcstorepass", "deststorepass"};
  for (auto s : suffixes)
    if (iends_with(c, s))
      return true;
  for (auto n : names)
    if (iequals(c, n))
      return true;
  return false;
}

// "db-password", "PGPASSWORD", "clientSecret", "api_key", "X-Auth-Token": yes.
// "password-file", "token_path", "tokenizer", "max-tokens": no.
bool sensitive_name(std::string_view name) {
  name = strip_quotes(name);
  while (!name.empty() && name.front() == '-')
    name.remove_prefix(1);
  if (name.empty() || istarts_with(name, "no-") || istarts_with(name, "no_"))
    return false; // --no-password: a switch
  // The last component names a location or a way to ask, not a value.
  auto last_separator = name.find_last_of("-_.");
  if (last_separator != npos) {
    auto last = name.substr(last_separator + 1);
    for (std::string_view where : {"file", "path", "dir", "env", "fd", "stdin", "prompt"})
      if (iequals(last, where))
        return false;
  }
  std::string_view previous;
  while (!name.empty()) {
    std::size_t end = 0;
    while (end < name.size() && !is_component_separator(name[end]))
      ++end;
    auto component = name.substr(0, end);
    if (sensitive_component(component))
      return true;
    if (iequals(component, "key"))
      for (std::string_view owner : {"api", "access", "private", "secret"})
        if (iequals(previous, owner))
          return true;
    previous = component;
    name.remove_prefix(end < name.size() ? end + 1 : end);
  }
  return false;
}

bool is_auth_scheme(std::string_view word) {
  word = strip_quotes(word);
  for (std::string_view scheme : {"bearer", "basic", "digest", "token", "negotiate", "apikey"})
    if (iequals(word, scheme))
      return true;
  return false;
}

struct span {
  std::size_t begin;
  std::size_t end;
};

class scanner {
public:
  explicit scanner(std::string_view text)
      : text_(text) {}

  std::vector<span> run() {
    std::size_t i = 0;
    while (i < text_.size()) {
      while (i < text_.size() && is_separator(text_[i]))
        ++i;
      if (i == text_.size())
        break;
      std::size_t end = i;
      while (end < text_.size() && !is_separator(text_[end]))
        ++end;
      i = token(i, end);
    }
    return std::move(masks_);
  }

private:
  enum class pending { none, value, value_after_scheme, password_after_colon };

  // Masks a value starting at `from`: up to its closing quote when quoted; else up to `stop`
  // or the end of its argument (the next NUL: a password may hold spaces), or only to the end
  // of the word (or a closing quote of the enclosing shell string) when `word_only`. Returns
  // where the value ends.
  std::size_t mask_value(std::size_t from, char stop, bool word_only) {
    if (from >= text_.size())
      return from;
    if (is_quote(text_[from])) {
      auto close = text_.find(text_[from], from + 1);
      if (close == npos)
        close = text_.size();
      add(from + 1, close);
      return close == text_.size() ? close : close + 1;
    }
    std::size_t end = from;
    while (end < text_.size() && text_[end] != '\0' && (stop == 0 || text_[end] != stop) &&
           !(word_only && (is_separator(text_[end]) || is_quote(text_[end]))))
      ++end;
    add(from, end);
    return end;
  }

  void add(std::size_t begin, std::size_t end) {
    if (end > begin)
      masks_.push_back({begin, end});
  }

  // Scans one word [begin, end); returns where the next word search starts.
  std::size_t token(std::size_t begin, std::size_t end) {
    auto word = text_.substr(begin, end - begin);
    auto bare = strip_quotes(word);

    if (pending_ == pending::value_after_scheme && is_auth_scheme(bare)) {
      pending_ = pending::value;
      return end;
    }
    if (pending_ == pending::password_after_colon) { // curl -u user:password
      pending_ = pending::none;
      if (auto colon = word.find(':'); colon != npos)
        return std::max(end,
                        mask_value(begin + colon + 1, 0, begin > 0 && text_[begin - 1] != '\0'));
      return end;
    }
    if (pending_ != pending::none) {
      // A whole argument after "--password\0"; one word inside a shell string.
      pending_ = pending::none;
      return std::max(end, mask_value(begin, 0, begin > 0 && text_[begin - 1] != '\0'));
    }

    // Programs whose short options take a password.
    auto base = bare.substr(bare.find_last_of('/') == npos ? 0 : bare.find_last_of('/') + 1);
    if (istarts_with(base, "mysql") || istarts_with(base, "mariadb"))
      program_ = program::mysql;
    else if (iequals(base, "sshpass"))
      program_ = program::sshpass;
    else if (istarts_with(base, "mongo"))
      program_ = program::mongo;
    else if (iequals(base, "redis-cli"))
      program_ = program::redis;
    else if (iequals(base, "curl"))
      program_ = program::curl;
    auto in_text = [&](std::size_t offset) { // an offset in `bare` as one in `text_`
      return static_cast<std::size_t>(bare.data() - text_.data()) + offset;
    };
    bool glued_p = bare.size() > 2 && bare[0] == '-' && bare[1] == 'p' && bare[2] != '-';
    if (glued_p && (program_ == program::mysql || program_ == program::sshpass))
      return std::max(end, mask_value(in_text(2), 0, false)); // -pVALUE
    if ((bare == "-p" && (program_ == program::sshpass || program_ == program::mongo)) ||
        (bare == "-a" && program_ == program::redis)) {
      pending_ = pending::value;
      return end;
    }
    if (program_ == program::curl) {
      if (bare == "-u" || bare == "--user") {
        pending_ = pending::password_after_colon;
        return end;
      }
      std::size_t user = bare.substr(0, 7) == "--user=" ? 7 : bare.substr(0, 2) == "-u" ? 2 : 0;
      if (user > 0)
        if (auto colon = bare.find(':', user); colon != npos)
          return std::max(end, mask_value(in_text(colon + 1), 0, false));
    }

    // "Bearer V", "Authorization:Bearer V"
    if (iequals(bare, "bearer") || iends_with(bare, ":bearer") || iends_with(bare, "=bearer")) {
      pending_ = pending::value;
      return end;
    }

    std::size_t resume = end;
    bool masked_inside = false;

    // scheme://user:password@host
    for (std::size_t at = word.find("://"); at != npos; at = word.find("://", at + 3)) {
      std::size_t authority = at + 3;
      std::size_t authority_end = word.find_first_of("/?#", authority);
      if (authority_end == npos)
        authority_end = word.size();
      auto userinfo_end = word.substr(0, authority_end).rfind('@');
      if (userinfo_end == npos || userinfo_end < authority)
        continue;
      auto colon = word.substr(0, userinfo_end).find(':', authority);
      if (colon == npos)
        continue;
      add(begin + colon + 1, begin + userinfo_end);
      masked_inside = true;
    }

    // key=value anywhere in the word (options, env, query strings, connection strings).
    for (std::size_t eq = word.find('='); eq != npos;) {
      std::size_t key_begin = eq;
      while (key_begin > 0 && is_key_char(word[key_begin - 1]))
        --key_begin;
      auto key = word.substr(key_begin, eq - key_begin);
      std::size_t next = eq + 1;
      if (!key.empty() && sensitive_name(key)) {
        char context = key_begin > 0 ? word[key_begin - 1] : 0;
        char stop = context == '?' || context == '&'     ? '&'
                    : (context == ';' || context == ',') ? context
                                                         : 0;
        auto after = mask_value(begin + eq + 1, stop, false);
        masked_inside = true;
        if (after >= end) {
          resume = after;
          break;
        }
        next = after - begin; // stopped at '&', ';' or ',' inside this word
      }
      eq = word.find('=', next);
    }
    if (masked_inside)
      return resume;

    // "X-Api-Key:V" and "X-Api-Key: V", "Authorization: [scheme] V"
    auto colon = bare.find(':');
    if (colon != npos && colon > 0 && bare.find("//") == npos) {
      auto name = bare.substr(0, colon);
      if (auto eq = name.rfind('='); eq != npos)
        name.remove_prefix(eq + 1); // --header=X-Api-Key:V
      if (sensitive_name(name)) {
        if (colon + 1 < bare.size()) {
          return std::max(end, mask_value(in_text(colon + 1), 0, false));
        }
        pending_ = iends_with(name, "authorization") ? pending::value_after_scheme : pending::value;
        return end;
      }
    }

    // --password V, -storepass V (a flag without '=')
    if (!bare.empty() && bare.front() == '-' && bare.find('=') == npos && sensitive_name(bare))
      pending_ = pending::value;
    return end;
  }

  std::string_view text_;
  std::vector<span> masks_;
  enum class program { other, mysql, sshpass, mongo, redis, curl };
  pending pending_ = pending::none;
  program program_ = program::other; // the last program name seen (a shell string may hold several)
};

} // namespace

bool scrub_command_line(std::string& text) {
  auto masks = scanner{text}.run();
  if (masks.empty())
    return false;
  std::sort(masks.begin(), masks.end(), [](span a, span b) { return a.begin < b.begin; });
  std::string out;
  out.reserve(text.size() + masks.size() * 3);
  std::size_t copied = 0;
  for (auto m : masks) {
    if (m.begin < copied)
      continue; // overlaps a mask already written
    out.append(text, copied, m.begin - copied);
    out += "***";
    copied = m.end;
  }
  out.append(text, copied, npos);
  text = std::move(out);
  return true;
}

} // namespace vigil::proc
