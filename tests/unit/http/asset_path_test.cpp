#include "http/asset_path.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

using namespace ramfleet::http;
namespace fs = std::filesystem;

TEST(AssetPath, TextChecks) {
  EXPECT_EQ(check_asset_segments({"vmlinuz"}), "");
  EXPECT_EQ(check_asset_segments({"sub", "initrd.img"}), "");
  EXPECT_NE(check_asset_segments({"..", "etc", "passwd"}), "");
  EXPECT_NE(check_asset_segments({"a", ".", "b"}), "");
  EXPECT_NE(check_asset_segments({"", "etc", "passwd"}), "");  // /assets//etc/passwd
  EXPECT_NE(check_asset_segments({"a/../../b"}), "");          // %2F decoded inside a segment
  EXPECT_NE(check_asset_segments({"a\\..\\b"}), "");
  EXPECT_NE(check_asset_segments({std::string("a\0b", 3)}), "");
  EXPECT_NE(check_asset_segments({}), "");
}

TEST(AssetPath, SymlinksMustStayInside) {
  const fs::path base = fs::temp_directory_path() / ("rf-assets-" + std::to_string(::getpid()));
  fs::remove_all(base);
  fs::create_directories(base / "assets" / "sub");
  fs::create_directories(base / "assets-old");
  std::ofstream(base / "assets" / "sub" / "k") << "kernel";
  std::ofstream(base / "secret") << "secret";
  std::ofstream(base / "assets-old" / "x") << "x";
  fs::create_symlink(base / "secret", base / "assets" / "out");
  fs::create_symlink("sub/k", base / "assets" / "in");
  fs::create_symlink(base / "assets-old" / "x", base / "assets" / "sibling");
  const auto root = fs::canonical(base / "assets");

  auto ok = resolve_asset(root, {"sub", "k"});
  ASSERT_TRUE(std::holds_alternative<fs::path>(ok));
  EXPECT_TRUE(std::holds_alternative<fs::path>(resolve_asset(root, {"in"})));
  auto out = resolve_asset(root, {"out"});
  ASSERT_TRUE(std::holds_alternative<AssetRefusal>(out));
  EXPECT_EQ(std::get<AssetRefusal>(out).kind, AssetRefusal::Kind::traversal);
  auto sib = resolve_asset(root, {"sibling"});
  ASSERT_TRUE(std::holds_alternative<AssetRefusal>(sib));
  EXPECT_EQ(std::get<AssetRefusal>(sib).kind, AssetRefusal::Kind::traversal);
  auto missing = resolve_asset(root, {"nope"});
  ASSERT_TRUE(std::holds_alternative<AssetRefusal>(missing));
  EXPECT_EQ(std::get<AssetRefusal>(missing).kind, AssetRefusal::Kind::not_found);
  auto dir = resolve_asset(root, {"sub"});
  ASSERT_TRUE(std::holds_alternative<AssetRefusal>(dir));
  EXPECT_EQ(std::get<AssetRefusal>(dir).kind, AssetRefusal::Kind::not_found);
  fs::remove_all(base);
}
