// Hostile archives (issue 10): every one ends fast in an ImageError naming
// the archive and the entry, never in a hang, a wrapped-around offset or an
// unbounded allocation. The archives are built here, byte by byte.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <nlohmann/json.hpp>

#include "core/sha256.hpp"
#include "image/byte_sink.hpp"
#include "image/decompress.hpp"
#include "image/image_builder.hpp"
#include "image/image_error.hpp"
#include "image/sources.hpp"
#include "image/tar_reader.hpp"
#include "test_support.hpp"

namespace ramfleet::image {
namespace {
using namespace testing;

// Rewrites a header's checksum after a field was changed by hand.
void fix_checksum(std::string& tar, std::size_t header) {
  char* h = tar.data() + header;
  std::memset(h + 148, ' ', 8);
  unsigned sum = 0;
  for (std::size_t i = 0; i < 512; ++i) sum += static_cast<unsigned char>(h[i]);
  octal(h + 148, 7, sum);
  h[155] = ' ';
}

// GNU base-256: first byte 0x80, then the value big-endian.
void base256(std::string& tar, std::size_t field, std::size_t len, std::uint64_t v) {
  std::memset(tar.data() + field, 0, len);
  tar[field] = static_cast<char>(0x80);
  for (std::size_t i = 0; i < 8; ++i) tar[field + len - 1 - i] = static_cast<char>((v >> (8 * i)) & 0xff);
}

// One member of any type with `data` as its contents (make_tar writes data
// for regular files only).
std::string raw_member(char type, const std::string& name, const std::string& data) {
  auto out = tar_header(TarItem{name, type, data}, data.size()) + data;
  out.append((512 - out.size() % 512) % 512, '\0');
  return out;
}

// "len key=value\n" with len counting itself.
std::string pax_record(const std::string& kv) {
  std::string body = " " + kv + "\n";
  std::size_t len = body.size() + 1;
  while (std::to_string(len).size() + body.size() != len) len = std::to_string(len).size() + body.size();
  return std::to_string(len) + body;
}

// The issue's 1.5 KiB crafted tar: one header whose base-256 size is
// 2^64 - 512, then the end-of-archive blocks. Rounding that size up to a
// block wrapped to "go back 512 bytes", so the reader re-read the same
// header for ever, handing out the member each time.
std::string crafted_tar() {
  auto tar = make_tar({{"evil", '0', ""}});
  base256(tar, 124, 12, ~std::uint64_t{0} - 511);
  fix_checksum(tar, 0);
  return tar;
}

struct Outcome {
  bool threw_image_error = false;
  std::string message;
  std::size_t members = 0;
};

// read_tar on bytes in memory; a visitor called more than 1000 times means
// the reader is looping, which is a failure, not a wait.
Outcome read_all(const std::string& tar, const ImageLimits& limits = {}) {
  Outcome o;
  MemorySource src({reinterpret_cast<const std::uint8_t*>(tar.data()), tar.size()}, "mem.tar");
  try {
    read_tar(src, 0, tar.size(), "mem.tar", limits, [&](const TarMember&) {
      if (++o.members > 1000) throw std::runtime_error("the reader is looping");
    });
  } catch (const ImageError& e) {
    o.threw_image_error = true;
    o.message = e.what();
  }
  return o;
}

void expect_error(const Outcome& o, const std::string& part) {
  EXPECT_TRUE(o.threw_image_error) << "no error; members seen: " << o.members;
  EXPECT_NE(o.message.find(part), std::string::npos) << o.message;
}

// Runs `fn` in a child process and reports what it threw; a child still
// running after `seconds` is killed and reported as a hang. (A thread could
// not be stopped; a hung reader also grows memory, so the wait is short.)
std::string run_bounded(const std::function<void()>& fn, int seconds = 20) {
  int fds[2];
  if (::pipe(fds) != 0) return "pipe failed";
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    std::string result = "no error";
    try {
      fn();
    } catch (const ImageError& e) {
      result = std::string("ImageError: ") + e.what();
    } catch (const std::exception& e) {
      result = std::string("other exception: ") + e.what();
    }
    auto n = ::write(fds[1], result.data(), result.size());
    (void)n;
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string out;
  pollfd p{fds[0], POLLIN, 0};
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      ::kill(pid, SIGKILL);
      out = "HUNG (killed after " + std::to_string(seconds) + " s)";
      break;
    }
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char buf[4096];
    auto n = ::read(fds[0], buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return out;
}

// An OCI image layout (as a tar) whose manifest lists `layer_blobs` in order.
std::string oci_with_layers(const std::vector<std::string>& layer_blobs, std::string index_text = {}) {
  std::vector<TarItem> items;
  nlohmann::json manifest = {{"schemaVersion", 2}, {"layers", nlohmann::json::array()}};
  for (const auto& blob : layer_blobs) {
    auto hex = sha256_hex(blob);
    items.push_back({"blobs/sha256/" + hex, '0', blob});
    manifest["layers"].push_back({{"digest", "sha256:" + hex}});
  }
  auto mtext = manifest.dump();
  items.push_back({"blobs/sha256/" + sha256_hex(mtext), '0', mtext});
  if (index_text.empty())
    index_text = nlohmann::json{{"manifests", {{{"digest", "sha256:" + sha256_hex(mtext)}}}}}.dump();
  items.push_back({"index.json", '0', index_text});
  items.push_back({"oci-layout", '0', R"({"imageLayoutVersion":"1.0.0"})"});
  return make_tar(items);
}

std::string load_error(const std::string& archive, const ImageLimits& limits = {}) {
  TempDir d;
  write_file(d.path / "img.tar", archive);
  return run_bounded([&] {
    SourceInfo info;
    load_oci_archive(d.path / "img.tar", d.path / "work", info, limits);
  });
}

std::string zstd_compress(const std::string& in) {
  std::string out(ZSTD_compressBound(in.size()), '\0');
  out.resize(ZSTD_compress(out.data(), out.size(), in.data(), in.size(), 3));
  return out;
}

// --- the crafted tar ----------------------------------------------------------

TEST(HostileTar, CraftedSizeNear2To64FailsInsteadOfLooping) {
  auto tar = crafted_tar();
  EXPECT_EQ(tar.size(), 1536u);  // 1.5 KiB, as found
  auto o = read_all(tar);
  expect_error(o, "mem.tar: malformed tar at byte 0 (entry 'evil'): size 18446744073709551104 runs past the end");
  EXPECT_EQ(o.members, 0u);  // never handed out
}

TEST(HostileTar, CraftedTarAsTheImageArchiveFailsFast) {
  TempDir d;
  write_file(d.path / "crafted.tar", crafted_tar());
  auto r = run_bounded([&] {
    build_image({d.path / "crafted.tar", d.path / "assets", Compression::zstd, 0, {}, {}, {}});
  });
  EXPECT_NE(r.find("ImageError: " + (d.path / "crafted.tar").string() + ": malformed tar at byte 0 (entry 'evil')"),
            std::string::npos)
      << r;
}

TEST(HostileTar, CraftedTarAsALayerFailsFastNamingTheLayer) {
  // Inside a layer the loop also kept every member it handed out: memory
  // grew without limit.
  auto r = load_error(oci_with_layers({gzip(crafted_tar())}));
  EXPECT_NE(r.find("ImageError: "), std::string::npos) << r;
  EXPECT_NE(r.find(": layer sha256:"), std::string::npos) << r;
  EXPECT_NE(r.find("(entry 'evil'): size 18446744073709551104 runs past the end"), std::string::npos) << r;
}

// --- numbers ------------------------------------------------------------------

TEST(HostileTar, SizeJustPastTheEndIsTruncatedNotWrapped) {
  auto tar = make_tar({{"f", '0', "abc"}});
  base256(tar, 124, 12, tar.size());  // more than what follows the header
  fix_checksum(tar, 0);
  expect_error(read_all(tar), "runs past the end");
}

TEST(HostileTar, NegativeBase256SizeIsRefused) {
  auto tar = make_tar({{"f", '0', "abc"}});
  std::memset(tar.data() + 124, 0xff, 12);  // -1 in base-256
  fix_checksum(tar, 0);
  expect_error(read_all(tar), "bad numeric field: size");
}

TEST(HostileTar, HugeOctalSizeIsTruncatedNotAccepted) {
  auto tar = make_tar({{"f", '0', "abc"}});
  std::memcpy(tar.data() + 124, "77777777777", 12);  // 8 GiB
  fix_checksum(tar, 0);
  expect_error(read_all(tar), "runs past the end");
  // Not a number at all.
  std::memcpy(tar.data() + 124, "12x45670000", 12);
  fix_checksum(tar, 0);
  expect_error(read_all(tar), "bad numeric field: size");
}

TEST(HostileTar, UidBeyond32BitsIsRefusedNotCutToRoot) {
  // 2^32 cut to 32 bits is uid 0.
  auto tar = make_tar({{"f", '0', "abc", "", 0644, 1000, 1000}});
  base256(tar, 108, 8, std::uint64_t{1} << 32);
  fix_checksum(tar, 0);
  expect_error(read_all(tar), "bad numeric field: uid");

  TarMember m;
  std::string err;
  EXPECT_FALSE(apply_pax_records(pax_record("uid=4294967296"), m, err));
  EXPECT_FALSE(apply_pax_records(pax_record("gid=-1000"), m, err));
  EXPECT_FALSE(apply_pax_records(pax_record("size=99999999999999999999"), m, err));
  EXPECT_TRUE(apply_pax_records(pax_record("mtime=-100"), m, err)) << err;  // before 1970 is fine
  EXPECT_EQ(m.mtime, -100);
}

TEST(HostileTar, TruncatedArchivesAreErrors) {
  auto tar = make_tar({{"a", '0', "hello"}, {"b", '0', std::string(3000, 'b')}});
  // Cut inside the second header, and inside the second member's data.
  for (std::size_t cut : {std::size_t{1024 + 100}, std::size_t{1536 + 1000}}) {
    auto o = read_all(tar.substr(0, cut));
    EXPECT_TRUE(o.threw_image_error) << "cut at " << cut;
    EXPECT_NE(o.message.find("truncated"), std::string::npos) << o.message;
  }
}

// --- extended headers and names -----------------------------------------------

std::string pax_member(const std::string& records, const std::string& name = "f") {
  return raw_member('x', "PaxHeader", records) + make_tar({{name, '0', "x"}});
}

TEST(HostileTar, PaxHeaderOverTheLimitIsRefusedNamingTheFlag) {
  auto rec = pax_record("path=" + std::string(5000, 'p'));
  ImageLimits small;
  small.max_pax_bytes = 4096;
  expect_error(read_all(pax_member(rec), small), "exceeds the limit of 4096 bytes (--max-pax-size)");
  // Within the pax limit, the name itself is over the name limit.
  expect_error(read_all(pax_member(rec)), "name of 5000 bytes exceeds the limit of 4096 bytes (--max-name-length)");
}

TEST(HostileTar, PaxSizeHugeClaimIsTruncated) {
  // A pax size record overrides the header: it must be checked as well.
  expect_error(read_all(pax_member(pax_record("size=18446744073709551104"))), "runs past the end");
}

TEST(HostileTar, GnuLongNameOverTheLimitIsRefused) {
  std::string name(10000, 'n');
  auto tar = raw_member('L', "././@LongLink", name) + make_tar({{"short", '0', "x"}});
  expect_error(read_all(tar), "name of 10000 bytes exceeds the limit of 4096 bytes (--max-name-length)");
  auto link = raw_member('K', "././@LongLink", name) + make_tar({{"short", '2', ""}});
  expect_error(read_all(link), "link target of 10000 bytes exceeds");
}

TEST(HostileTar, NameWithANulByteIsRefused) {
  std::string kv = "path=a";
  kv += '\0';
  kv += "b";
  expect_error(read_all(pax_member(pax_record(kv))), "contains a NUL byte");
}

TEST(HostileTar, EntryCountIsCapped) {
  std::vector<TarItem> items;
  for (int i = 0; i < 50; ++i) items.push_back({"f" + std::to_string(i), '0', "x"});
  ImageLimits small;
  small.max_entries = 10;
  auto o = read_all(make_tar(items), small);
  expect_error(o, "(entry 'f10'): more than 10 entries (--max-entries)");
  EXPECT_EQ(o.members, 10u);
}

// --- layers -------------------------------------------------------------------

TEST(HostileLayer, GzipBombStopsAtTheLayerLimit) {
  // 16 MiB of zeros in ~16 KiB of gzip; the layer limit is 1 MiB.
  auto bomb = gzip(make_tar({{"zeros", '0', std::string(16u << 20, '\0')}}));
  EXPECT_LT(bomb.size(), 200000u);
  ImageLimits small;
  small.max_layer_bytes = 1 << 20;
  auto r = load_error(oci_with_layers({bomb}), small);
  EXPECT_NE(r.find("ImageError: "), std::string::npos) << r;
  EXPECT_NE(r.find(": layer sha256:" + sha256_hex(bomb)), std::string::npos) << r;
  EXPECT_NE(r.find("decompressed size exceeds the per-layer limit (--max-layer-size) of 1048576 bytes"),
            std::string::npos)
      << r;
}

TEST(HostileLayer, ZstdBombStopsAtTheLayerLimit) {
  auto bomb = zstd_compress(make_tar({{"zeros", '0', std::string(16u << 20, '\0')}}));
  ImageLimits small;
  small.max_layer_bytes = 1 << 20;
  auto r = load_error(oci_with_layers({bomb}), small);
  EXPECT_NE(r.find("decompressed size exceeds the per-layer limit (--max-layer-size)"), std::string::npos) << r;
}

TEST(HostileLayer, LayersTogetherStopAtTheImageLimit) {
  auto layer = gzip(make_tar({{"a", '0', std::string(600000, 'a')}}));
  auto layer2 = gzip(make_tar({{"b", '0', std::string(600000, 'b')}}));
  ImageLimits small;
  small.max_layer_bytes = 1 << 20;
  small.max_total_bytes = 1 << 20;  // each layer fits, both do not
  auto r = load_error(oci_with_layers({layer, layer2}), small);
  EXPECT_NE(r.find(": layer sha256:" + sha256_hex(layer2)), std::string::npos) << r;
  EXPECT_NE(r.find("the image limit (--max-image-size)"), std::string::npos) << r;
}

TEST(HostileLayer, DecodeStreamStopsBeforeWritingPastTheLimit) {
  auto bomb = gzip(std::string(8u << 20, 'z'));
  MemorySource src({reinterpret_cast<const std::uint8_t*>(bomb.data()), bomb.size()}, "bomb");
  std::uint64_t seen = 0;
  EXPECT_THROW(decode_stream(src, 0, bomb.size(), "bomb", {100000, "the test limit"},
                             [&](std::span<const std::uint8_t> b) { seen += b.size(); }),
               ImageError);
  EXPECT_LE(seen, 100000u);
}

TEST(HostileLayer, PathTraversalNamesAreRefused) {
  for (const char* name : {"../etc/passwd", "a/../../etc/shadow", "./../x"}) {
    auto r = load_error(oci_with_layers({make_tar({{name, '0', "x"}})}));
    EXPECT_NE(r.find("entry escapes the root: " + std::string(name)), std::string::npos) << r;
  }
  // The same through a pax path record.
  auto r = load_error(oci_with_layers({pax_member(pax_record("path=../../root/.ssh/authorized_keys"))}));
  EXPECT_NE(r.find("entry escapes the root: ../../root/.ssh/authorized_keys"), std::string::npos) << r;
}

TEST(HostileLayer, HardLinkLoopsAndSelfLinksFailInsteadOfResolving) {
  auto loop = make_tar({{"a", '1', "", "b"}, {"b", '1', "", "a"}});
  auto r = load_error(oci_with_layers({loop}));
  EXPECT_NE(r.find("hard link a to missing b"), std::string::npos) << r;
  auto self = make_tar({{"s", '1', "", "s"}});
  r = load_error(oci_with_layers({self}));
  EXPECT_NE(r.find("hard link s to missing s"), std::string::npos) << r;
}

TEST(HostileLayer, TreeEntriesAreCappedIncludingMadeUpParents) {
  // One entry, but 100 directories above it.
  std::string deep;
  for (int i = 0; i < 100; ++i) deep += "d/";
  ImageLimits small;
  small.max_entries = 50;
  auto r = load_error(oci_with_layers({make_tar({{deep + "f", '0', "x"}})}), small);
  EXPECT_NE(r.find("more than 50 entries"), std::string::npos) << r;
}

// --- manifests ----------------------------------------------------------------

TEST(HostileManifest, OversizedIndexIsRefusedNamingTheFlag) {
  std::string big = R"({"manifests":[],"pad":")" + std::string(5u << 20, 'x') + "\"}";
  auto r = load_error(oci_with_layers({}, big));
  EXPECT_NE(r.find("index.json is " + std::to_string(big.size()) + " bytes"), std::string::npos) << r;
  EXPECT_NE(r.find("(--max-json-size)"), std::string::npos) << r;
}

TEST(HostileManifest, WrongJsonTypesAreImageErrorsNamingTheArchive) {
  for (const char* index :
       {R"([1,2,3])", R"({"manifests":"x"})", R"({"manifests":[5]})", R"({"manifests":[{"digest":7}]})",
        R"({"manifests":[{"platform":3,"digest":"a:b"}]})", R"({"layers":"x"})", R"({"layers":[1]})"}) {
    auto r = load_error(oci_with_layers({}, index));
    EXPECT_NE(r.find("ImageError: "), std::string::npos) << index << ": " << r;
    EXPECT_NE(r.find("img.tar"), std::string::npos) << index << ": " << r;
  }
}

TEST(HostileManifest, DeeplyNestedJsonIsRefused) {
  std::string deep =
      R"({"manifests":[{"digest":"a:b","platform":)" + std::string(100000, '[') + std::string(100000, ']') + "}]}";
  auto r = load_error(oci_with_layers({}, deep));
  EXPECT_NE(r.find("nests deeper than 64 levels"), std::string::npos) << r;
}

TEST(HostileManifest, LayerCountIsCapped) {
  auto layer = make_tar({{"f", '0', "x"}});
  std::vector<std::string> layers(5, layer);
  ImageLimits small;
  small.max_layers = 4;
  auto r = load_error(oci_with_layers(layers), small);
  EXPECT_NE(r.find("more than 4 layers (--max-layers)"), std::string::npos) << r;
}

}  // namespace
}  // namespace ramfleet::image
