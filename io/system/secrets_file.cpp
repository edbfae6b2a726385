#include "io/system/secrets_file.hpp"

#include "io/system/atomic_file.hpp"

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace vigil {

void edit_secrets(const std::string& path, const std::function<void(nlohmann::json&)>& edit) {
  nlohmann::json doc = nlohmann::json::object();
  if (std::ifstream in{path}) {
    std::stringstream text;
    text << in.rdbuf();
    doc = nlohmann::json::parse(text.str(), nullptr, false, /*ignore_comments=*/true);
    if (!doc.is_object())
      throw std::runtime_error(path + ": not a JSON object; secret not written");
  }
  edit(doc);
  write_file_atomically(path, doc.dump(2) + "\n", 0600);
}

void write_secret(const std::string& path, const std::vector<std::string>& key_path,
                  const std::string& value) {
  edit_secrets(path, [&](nlohmann::json& doc) {
    auto* node = &doc;
    for (auto& key : key_path) {
      if (!node->contains(key) || !(*node)[key].is_object())
        (*node)[key] = key == key_path.back() ? nlohmann::json{} : nlohmann::json::object();
      node = &(*node)[key];
    }
    *node = value;
  });
}

} // namespace vigil
