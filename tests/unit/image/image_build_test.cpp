// build_image end to end: deterministic bytes, content-addressed storage, the
// cpio a kernel will unpack, and OCI archives with whiteouts.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "core/sha256.hpp"
#include "image/cpio_writer.hpp"
#include "image/image_builder.hpp"
#include "image/image_error.hpp"
#include "image/sources.hpp"
#include "stage1/chunk_manifest.hpp"
#include "test_support.hpp"

namespace ramfleet::image {
namespace {
using namespace testing;

void make_rootfs(const std::filesystem::path& root) {
  write_file(root / "init", "#!/bin/sh\necho hi\n");
  ::chmod((root / "init").c_str(), 0755);
  write_file(root / "etc/hostname", "node\n");
  write_file(root / "usr/lib/big", std::string(300000, 'z'));
  std::filesystem::create_directories(root / "empty");
  std::filesystem::create_symlink("../usr/lib/big", root / "etc/big-link");
}

std::string sha256_hex_of_file(const std::filesystem::path& p) { return sha256_hex(read_file(p)); }

TEST(ImageBuild, SameDirectoryTwiceGivesIdenticalBytesAndId) {
  TempDir d;
  make_rootfs(d.path / "root");
  for (auto c : {Compression::zstd, Compression::gzip}) {
    auto a = build_image({d.path / "root", d.path / "assets-a", c, 0, std::nullopt, {}, {}});
    auto b = build_image({d.path / "root", d.path / "assets-b", c, 0, std::nullopt, {}, {}});
    EXPECT_EQ(a.id, b.id);
    EXPECT_EQ(read_file(a.directory / image_file_name(c)), read_file(b.directory / image_file_name(c)));
    EXPECT_EQ(read_file(a.directory / "manifest.json"), read_file(b.directory / "manifest.json"));
    // The id is the content's hash, and the path names it.
    EXPECT_EQ(a.id, sha256_hex_of_file(a.directory / image_file_name(c)));
    EXPECT_EQ(a.asset_path, "images/" + a.id + "/" + image_file_name(c));
  }
}

TEST(ImageBuild, SecondBuildIntoTheSameAssetsReusesTheImageAndLeavesNoTemporaries) {
  TempDir d;
  make_rootfs(d.path / "root");
  auto a = build_image({d.path / "root", d.path / "assets", Compression::zstd, 0, std::nullopt, {}, {}});
  auto b = build_image({d.path / "root", d.path / "assets", Compression::zstd, 0, std::nullopt, {}, {}});
  EXPECT_FALSE(a.reused);
  EXPECT_TRUE(b.reused);
  std::vector<std::string> left;
  for (const auto& e : std::filesystem::directory_iterator(d.path / "assets/images"))
    left.push_back(e.path().filename().string());
  EXPECT_EQ(left, std::vector<std::string>{a.id});
}

TEST(ImageBuild, ChangedContentGetsANewId) {
  TempDir d;
  make_rootfs(d.path / "root");
  auto a = build_image({d.path / "root", d.path / "assets", Compression::zstd, 0, 0, {}, {}});
  write_file(d.path / "root/etc/hostname", "other\n");
  auto b = build_image({d.path / "root", d.path / "assets", Compression::zstd, 0, 0, {}, {}});
  EXPECT_NE(a.id, b.id);
  EXPECT_TRUE(std::filesystem::exists(a.directory));  // the old URL keeps serving the old bytes
}

TEST(ImageBuild, CpioHoldsSortedEntriesWithModesOwnersAndData) {
  TempDir d;
  make_rootfs(d.path / "root");
  auto built = build_image({d.path / "root", d.path / "assets", Compression::zstd, 0, 42, {}, {}});
  auto entries = parse_newc(unzstd(read_file(built.directory / "rootfs.cpio.zst")));
  std::vector<std::string> names;
  for (const auto& e : entries) names.push_back(e.name);
  EXPECT_EQ(names, (std::vector<std::string>{"empty", "etc", "etc/big-link", "etc/hostname", "init", "usr", "usr/lib",
                                             "usr/lib/big"}));
  auto m = by_name(entries);
  EXPECT_EQ(m["init"].mode, 0100755u);
  EXPECT_EQ(m["init"].data, "#!/bin/sh\necho hi\n");
  EXPECT_EQ(m["etc/big-link"].mode & 0170000u, 0120000u);
  EXPECT_EQ(m["etc/big-link"].data, "../usr/lib/big");
  EXPECT_EQ(m["usr/lib/big"].data.size(), 300000u);
  EXPECT_EQ(m["empty"].mode & 0170000u, 0040000u);
  for (const auto& e : entries) EXPECT_EQ(e.mtime, 42u) << e.name;
  EXPECT_EQ(m["init"].uid, ::getuid());
  auto manifest = nlohmann::json::parse(read_file(built.directory / "manifest.json"));
  EXPECT_EQ(manifest["id"], built.id);
  EXPECT_EQ(manifest["entries"], 8);
  EXPECT_EQ(manifest["source"]["kind"], "directory");
  EXPECT_EQ(manifest["compression"], "zstd");
}

TEST(ImageBuild, GzipImageUnpacksToTheSameCpioAsZstd) {
  TempDir d;
  make_rootfs(d.path / "root");
  auto z = build_image({d.path / "root", d.path / "assets", Compression::zstd, 0, 7, {}, {}});
  auto g = build_image({d.path / "root", d.path / "assets", Compression::gzip, 0, 7, {}, {}});
  EXPECT_NE(z.id, g.id);
  EXPECT_EQ(unzstd(read_file(z.directory / "rootfs.cpio.zst")), gunzip(read_file(g.directory / "rootfs.cpio.gz")));
  EXPECT_EQ(z.manifest["cpio_sha256"], g.manifest["cpio_sha256"]);
}

TEST(ImageBuild, MissingSourceIsAClearError) {
  TempDir d;
  try {
    build_image({d.path / "nope", d.path / "assets", Compression::zstd, 0, std::nullopt, {}, {}});
    FAIL();
  } catch (const ImageError& e) {
    EXPECT_NE(std::string(e.what()).find("nope"), std::string::npos);
  }
}

// --- OCI ----------------------------------------------------------------------

std::string lower_layer() {
  return make_tar({{"etc/", '5', "", "", 0755},
                   {"etc/a", '0', "A"},
                   {"etc/b", '0', "B"},
                   {"d/", '5', "", "", 0750, 0, 0},
                   {"d/x", '0', "X"},
                   {"d/y", '0', "Y"},
                   {"bin/tool", '0', "tool", "", 0755, 1000, 100}});
}

std::string upper_layer() {
  return make_tar({{"etc/.wh.a", '0', ""},       // deletes etc/a
                   {"d/.wh..wh..opq", '0', ""},  // hides d/x and d/y from below ...
                   {"d/z", '0', "Z"},            // ... but not what this layer adds
                   {"bin/tool-link", '1', "", "bin/tool"},
                   {"etc/b", '0', "B2"}});
}

// An OCI image layout, as a tar: oci-layout, index.json, blobs/sha256/...
std::string oci_archive(bool corrupt_digest = false) {
  std::vector<TarItem> items;
  std::vector<std::string> layer_digests;
  std::vector<std::string> blobs_layers = {gzip(lower_layer()), upper_layer()};  // mixed: gzip and plain
  for (const auto& blob : blobs_layers) {
    auto hex = sha256_hex(blob);
    layer_digests.push_back("sha256:" + hex);
    items.push_back({"blobs/sha256/" + hex, '0', blob});
  }
  if (corrupt_digest) items[0].data[20] ^= 1;
  nlohmann::json manifest = {{"schemaVersion", 2},
                             {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                             {"layers", nlohmann::json::array()}};
  for (const auto& dg : layer_digests)
    manifest["layers"].push_back({{"mediaType", "application/vnd.oci.image.layer.v1.tar+gzip"}, {"digest", dg}});
  auto mtext = manifest.dump();
  auto mhex = sha256_hex(mtext);
  items.push_back({"blobs/sha256/" + mhex, '0', mtext});
  nlohmann::json index = {{"schemaVersion", 2},
                          {"manifests",
                           {{{"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                             {"digest", "sha256:" + mhex},
                             {"platform", {{"os", "linux"}, {"architecture", "amd64"}}}}}}};
  items.push_back({"index.json", '0', index.dump()});
  items.push_back({"oci-layout", '0', R"({"imageLayoutVersion":"1.0.0"})"});
  return make_tar(items);
}

void expect_whiteouts_applied(const FsTree& t) {
  EXPECT_EQ(t.find("etc/a"), nullptr);
  ASSERT_NE(t.find("etc/b"), nullptr);
  EXPECT_EQ(t.find("d/x"), nullptr);
  EXPECT_EQ(t.find("d/y"), nullptr);
  ASSERT_NE(t.find("d/z"), nullptr);
  EXPECT_EQ(t.find("d")->permissions, 0750u);  // the opaque directory itself stays
  EXPECT_EQ(t.find("etc/.wh.a"), nullptr);     // whiteout markers never reach the image
  EXPECT_EQ(t.find("d/.wh..wh..opq"), nullptr);
  ASSERT_NE(t.find("bin/tool-link"), nullptr);
  EXPECT_EQ(t.find("bin/tool-link")->uid, 1000u);
}

TEST(OciArchive, LayersAppliedInOrderWithWhiteouts) {
  TempDir d;
  write_file(d.path / "img.tar", oci_archive());
  SourceInfo info;
  auto tree = load_oci_archive(d.path / "img.tar", d.path / "work", info);
  EXPECT_EQ(info.kind, "oci-layout");
  EXPECT_EQ(info.layers.size(), 2u);
  EXPECT_EQ(info.whiteouts, 2u);
  expect_whiteouts_applied(tree);

  auto built = build_image({d.path / "img.tar", d.path / "assets", Compression::zstd, 0, std::nullopt, {}, {}});
  auto m = by_name(parse_newc(unzstd(read_file(built.directory / "rootfs.cpio.zst"))));
  EXPECT_EQ(m.count("etc/a"), 0u);
  EXPECT_EQ(m["etc/b"].data, "B2");
  EXPECT_EQ(m["d/z"].data, "Z");
  EXPECT_EQ(m.count("d/x"), 0u);
  EXPECT_EQ(m["bin/tool-link"].data, "tool");
  EXPECT_EQ(m["bin/tool"].uid, 1000u);
  EXPECT_EQ(m["bin/tool"].gid, 100u);
  auto again = build_image({d.path / "img.tar", d.path / "assets2", Compression::zstd, 0, std::nullopt, {}, {}});
  EXPECT_EQ(again.id, built.id);
}

TEST(OciArchive, DockerSaveTarballIsReadToo) {
  TempDir d;
  nlohmann::json manifest = nlohmann::json::array(
      {{{"Config", "cfg.json"}, {"RepoTags", {"x:latest"}}, {"Layers", {"l1/layer.tar", "l2/layer.tar"}}}});
  write_file(d.path / "img.tar", make_tar({{"l1/layer.tar", '0', lower_layer()},
                                           {"l2/layer.tar", '0', upper_layer()},
                                           {"cfg.json", '0', "{}"},
                                           {"manifest.json", '0', manifest.dump()}}));
  SourceInfo info;
  auto tree = load_oci_archive(d.path / "img.tar", d.path / "work", info);
  EXPECT_EQ(info.kind, "docker-archive");
  expect_whiteouts_applied(tree);
}

TEST(OciArchive, LayerNotMatchingItsDigestIsRefused) {
  TempDir d;
  write_file(d.path / "img.tar", oci_archive(true));
  SourceInfo info;
  try {
    load_oci_archive(d.path / "img.tar", d.path / "work", info);
    FAIL();
  } catch (const ImageError& e) {
    EXPECT_NE(std::string(e.what()).find("does not match its digest"), std::string::npos) << e.what();
  }
}

TEST(OciArchive, EntryEscapingTheRootIsRefused) {
  TempDir d;
  write_file(d.path / "layer.tar", make_tar({{"../etc/passwd", '0', "x"}}));
  FsTree t;
  EXPECT_THROW(apply_layer(t, d.path / "layer.tar", "layer"), ImageError);
}

TEST(OciArchive, NeitherLayoutIsAClearError) {
  TempDir d;
  write_file(d.path / "img.tar", make_tar({{"hello", '0', "x"}}));
  SourceInfo info;
  EXPECT_THROW(load_oci_archive(d.path / "img.tar", d.path / "work", info), ImageError);
}

}  // namespace
}  // namespace ramfleet::image

namespace ramfleet::image {
namespace {
using namespace testing;

// chunks.json beside every image: the per-chunk digests nodes check p2p
// chunks against (stage1/chunk_manifest.hpp).
TEST(ImageBuild, WritesAChunkManifestOfTheImage) {
  TempDir d;
  write_file(d.path / "root/big", std::string(3U << 20U, 'q'));
  write_file(d.path / "root/rnd", [] {
    std::string s(300000, '\0');
    std::mt19937 g(7);
    for (auto& c : s) c = static_cast<char>(g());
    return s;
  }());
  BuildOptions o{d.path / "root", d.path / "assets", Compression::zstd, 0, std::int64_t{0}, {}, {}};
  o.chunk_size = 64 * 1024;
  const auto built = build_image(o);
  EXPECT_TRUE(built.chunks_written);
  const auto image = read_file(built.directory / "rootfs.cpio.zst");
  std::string error;
  const auto m = stage1::parse_chunk_manifest(read_file(built.directory / "chunks.json"), error);
  ASSERT_TRUE(m) << error;
  EXPECT_EQ(m->image_id, built.id);
  EXPECT_EQ(m->file, "rootfs.cpio.zst");
  EXPECT_EQ(m->size, image.size());
  EXPECT_EQ(m->chunk_size, 64U * 1024U);
  EXPECT_EQ(m->chunks, stage1::make_chunk_manifest(built.id, "rootfs.cpio.zst", image, 64 * 1024).chunks);
}

TEST(ImageBuild, AddsAChunkManifestToAnImageBuiltWithoutOneOrAtAnotherSize) {
  TempDir d;
  write_file(d.path / "root/f", std::string(200000, 'x'));
  BuildOptions o{d.path / "root", d.path / "assets", Compression::zstd, 0, std::int64_t{0}, {}, {}};
  const auto first = build_image(o);
  std::filesystem::remove(first.directory / "chunks.json");
  o.chunk_size = 4096;
  const auto again = build_image(o);
  EXPECT_TRUE(again.reused);
  EXPECT_TRUE(again.chunks_written);
  std::string error;
  auto m = stage1::parse_chunk_manifest(read_file(again.directory / "chunks.json"), error);
  ASSERT_TRUE(m) << error;
  EXPECT_EQ(m->chunk_size, 4096U);
  // The same size again: kept, not rewritten; no temporaries left behind.
  EXPECT_FALSE(build_image(o).chunks_written);
  for (const auto& e : std::filesystem::directory_iterator(again.directory))
    EXPECT_NE(e.path().filename().string()[0], '.') << e.path();
}

}  // namespace
}  // namespace ramfleet::image
