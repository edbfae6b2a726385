#pragma once

// Masks secrets in process command lines before they leave the host.

#include <string>
#include <string_view>

namespace vigil::proc {

// Replaces secret values with "***" in a command line whose arguments are separated by spaces
// or NULs (it also scans `sh -c "..."` strings, word by word). Returns true when anything was
// masked. Only obvious forms are recognised:
//   --password=V  --db-password V  -password V  PGPASSWORD=V  client_secret=V  --api-key V
//     (names with a component ending in password, passwd, passphrase, secret, token, apikey,
//      accesskey, privatekey, secretkey, credential(s), authorization; or named pass, pw, pwd,
//      storepass, keypass; or api/access/private/secret followed by key — but not names ending
//      in file, path, dir, env, fd, stdin, prompt, which say where the secret is, nor no-*)
//   ?token=V&…  a=1;Password=V;…  user=u,password=V,…   (the value stops at & ; ,)
//   scheme://user:V@host            (userinfo password; the user stays)
//   Authorization: Bearer V   Authorization: V   Bearer V   X-Api-Key: V   X-Auth-Token:V
//   mysql*/mariadb* … -pV   sshpass -p V / -pV   mongo* -p V   redis-cli -a V
//   curl -u user:V / --user user:V / --user=user:V / -uuser:V
// A value runs to the end of its argument (the next NUL: passwords may hold spaces) unless it
// stops at & ; , as above; a quoted value ('…' or "…") up to its closing quote; the value
// after a separate "--password" is the whole next argument, or one word inside a shell string.
bool scrub_command_line(std::string& text);

} // namespace vigil::proc
