// libFuzzer target: the OCI / docker-save walker (load_oci_archive) end to
// end: outer tar, index.json, nested indexes, manifests, digests, layer
// decoding, whiteouts, the caps. The input is either a raw archive, or (when
// it starts with "@@@@") pieces split on "@@@@" that this harness packs into
// an OCI layout so digests match and the fuzzer reaches the layers:
//   piece 0: index.json   ("$M" becomes the manifest's digest)
//   piece 1: the manifest ("$0".."$3" become the layers' digests)
//   piece 2..5: layer blobs (tar, gzip or zstd)
// Invariants: only ImageError is thrown; the tree stays within max_entries.
// fuzz-options: -max_len=65536 -runs=20000
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/sha256.hpp"
#include "image/byte_sink.hpp"
#include "image/image_error.hpp"
#include "image/sources.hpp"

using namespace ramfleet::image;
using ramfleet::sha256_hex;
namespace fs = std::filesystem;

namespace {

void octal(char* field, std::size_t len, std::uint64_t v) {
  for (std::size_t i = len - 1; i-- > 0; v >>= 3) field[i] = static_cast<char>('0' + (v & 7));
  field[len - 1] = '\0';
}

void add_member(std::string& tar, const std::string& name, const std::string& data) {
  std::string h(512, '\0');
  std::memcpy(h.data(), name.data(), std::min<std::size_t>(name.size(), 99));
  octal(h.data() + 100, 8, 0644);
  octal(h.data() + 108, 8, 0);
  octal(h.data() + 116, 8, 0);
  octal(h.data() + 124, 12, data.size());
  octal(h.data() + 136, 12, 0);
  h[156] = '0';
  std::memcpy(h.data() + 257,
              "ustar\0"
              "00",
              8);
  std::memset(h.data() + 148, ' ', 8);
  unsigned sum = 0;
  for (unsigned char c : h) sum += c;
  octal(h.data() + 148, 7, sum);
  tar += h;
  tar += data;
  tar.append((512 - tar.size() % 512) % 512, '\0');
}

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (auto p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) s.replace(p, from.size(), to);
}

std::string pack(const std::string& input) {
  std::vector<std::string> pieces;
  for (std::size_t start = 4;;) {
    auto at = input.find("@@@@", start);
    pieces.push_back(input.substr(start, at == std::string::npos ? std::string::npos : at - start));
    if (at == std::string::npos || pieces.size() == 6) break;
    start = at + 4;
  }
  pieces.resize(6);
  std::string tar;
  std::string manifest = pieces[1];
  for (int i = 0; i < 4; ++i) {
    const auto& blob = pieces[2 + i];
    auto hex = sha256_hex(blob);
    replace_all(manifest, "$" + std::to_string(i), "sha256:" + hex);
    add_member(tar, "blobs/sha256/" + hex, blob);
  }
  auto mhex = sha256_hex(manifest);
  add_member(tar, "blobs/sha256/" + mhex, manifest);
  std::string index = pieces[0];
  replace_all(index, "$M", "sha256:" + mhex);
  add_member(tar, "index.json", index);
  add_member(tar, "oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
  tar.append(1024, '\0');
  return tar;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const fs::path dir = fs::temp_directory_path() / ("ramfleet-fuzz-oci-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  std::string input(reinterpret_cast<const char*>(data), size);
  {
    std::ofstream out(dir / "img.tar", std::ios::binary | std::ios::trunc);
    out << (input.starts_with("@@@@") ? pack(input) : input);
  }
  ImageLimits limits;
  limits.max_layer_bytes = 1 << 20;
  limits.max_total_bytes = 2 << 20;
  limits.max_entries = 300;
  limits.max_name_bytes = 512;
  limits.max_pax_bytes = 4096;
  limits.max_json_bytes = 16384;
  limits.max_layers = 8;
  try {
    SourceInfo info;
    auto tree = load_oci_archive(dir / "img.tar", dir / "work", info, limits);
    if (tree.entries().size() > limits.max_entries) std::abort();
  } catch (const ImageError&) {
  }
  std::error_code ec;
  fs::remove_all(dir / "work", ec);
  return 0;
}
