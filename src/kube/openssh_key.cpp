#include "kube/openssh_key.hpp"

#include <cstdint>

namespace ramfleet::kube {

namespace {

// SSH wire encoding (RFC 4251 section 5).
void put_u32(std::string& out, std::uint32_t v) {
  out.push_back(static_cast<char>(v >> 24));
  out.push_back(static_cast<char>(v >> 16));
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v));
}
void put_string(std::string& out, std::string_view s) {
  put_u32(out, static_cast<std::uint32_t>(s.size()));
  out.append(s);
}

std::string raw_key(const EVP_PKEY& key, bool private_part) {
  std::string out(32, '\0');
  size_t n = out.size();
  auto* buf = reinterpret_cast<unsigned char*>(out.data());
  int rc = private_part ? EVP_PKEY_get_raw_private_key(&key, buf, &n) : EVP_PKEY_get_raw_public_key(&key, buf, &n);
  if (rc != 1 || n != 32) throw CryptoError("not an Ed25519 key");
  return out;
}

}  // namespace

OpenSshKeyPair openssh_ed25519(const EVP_PKEY& key, std::string_view comment) {
  constexpr std::string_view kType = "ssh-ed25519";
  const std::string pub = raw_key(key, false);
  const std::string seed = raw_key(key, true);

  std::string pub_blob;
  put_string(pub_blob, kType);
  put_string(pub_blob, pub);

  // The private section: two equal check words (a wrong passphrase shows as a
  // mismatch), the key (OpenSSH stores seed || public), the comment, then
  // padding 1, 2, 3... to the cipher block size (8 for "none").
  std::string priv;
  const std::string check = random_bytes(4);
  priv += check;
  priv += check;
  put_string(priv, kType);
  put_string(priv, pub);
  put_string(priv, seed + pub);
  put_string(priv, comment);
  for (char pad = 1; priv.size() % 8 != 0; ++pad) priv.push_back(pad);

  std::string blob("openssh-key-v1");
  blob.push_back('\0');      // the format's magic includes its terminating NUL
  put_string(blob, "none");  // cipher
  put_string(blob, "none");  // kdf
  put_string(blob, "");      // kdf options
  put_u32(blob, 1);          // number of keys
  put_string(blob, pub_blob);
  put_string(blob, priv);

  const std::string b64 = base64(blob);
  OpenSshKeyPair out;
  out.private_key = "-----BEGIN OPENSSH PRIVATE KEY-----\n";
  for (std::size_t i = 0; i < b64.size(); i += 70) out.private_key += b64.substr(i, 70) + "\n";
  out.private_key += "-----END OPENSSH PRIVATE KEY-----\n";
  out.public_key = std::string(kType) + " " + base64(pub_blob);
  if (!comment.empty()) out.public_key += " " + std::string(comment);
  out.public_key += "\n";
  return out;
}

}  // namespace ramfleet::kube
