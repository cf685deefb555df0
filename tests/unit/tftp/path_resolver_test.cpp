#include "tftp/path_resolver.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <random>

using namespace ramfleet::tftp;
namespace fs = std::filesystem;

namespace {

class TempTree {
 public:
  TempTree() {
    std::random_device rd;
    dir_ = fs::temp_directory_path() / ("ramfleet-tftp-test-" + std::to_string(rd()) + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  ~TempTree() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  [[nodiscard]] const fs::path& dir() const { return dir_; }
  fs::path file(const fs::path& rel, const std::string& content = "x") const {
    fs::path p = dir_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << content;
    return p;
  }

 private:
  fs::path dir_;
};

const ResolvedPath* resolved(const Resolution& r) { return std::get_if<ResolvedPath>(&r); }
std::optional<ErrorCode> refusal(const Resolution& r) {
  if (auto* p = std::get_if<PathRefusal>(&r)) return p->code;
  return std::nullopt;
}

}  // namespace

TEST(TftpPathResolver, ServesFilesInsideTheRoot) {
  TempTree t;
  auto f = t.file("root/undionly.kpxe");
  t.file("root/sub/dir/ipxe.efi");
  PathResolver r({t.dir() / "root"});
  auto a = r.resolve("undionly.kpxe");
  ASSERT_TRUE(resolved(a));
  EXPECT_EQ(resolved(a)->path, fs::canonical(f));
  EXPECT_TRUE(resolved(r.resolve("sub/dir/ipxe.efi")));
  EXPECT_TRUE(resolved(r.resolve("./sub//dir/./ipxe.efi")));
}

TEST(TftpPathResolver, LeadingSlashMeansFromTheRoot) {
  TempTree t;
  t.file("root/pxelinux.0");
  PathResolver r({t.dir() / "root"});
  EXPECT_TRUE(resolved(r.resolve("/pxelinux.0")));
  EXPECT_TRUE(resolved(r.resolve("//pxelinux.0")));
  // Never the host's file: /etc/passwd is looked up as <root>/etc/passwd.
  EXPECT_EQ(refusal(r.resolve("/etc/passwd")), ErrorCode::file_not_found);
  auto inside = t.file("root/etc/passwd", "not the host's");
  EXPECT_EQ(resolved(r.resolve("/etc/passwd"))->path, fs::canonical(inside));
}

TEST(TftpPathResolver, BackslashesAreSeparators) {
  TempTree t;
  t.file("root/boot/x64/wdsmgfw.efi");
  PathResolver r({t.dir() / "root"});
  EXPECT_TRUE(resolved(r.resolve("boot\\x64\\wdsmgfw.efi")));
  EXPECT_TRUE(resolved(r.resolve("\\boot\\x64\\wdsmgfw.efi")));
  EXPECT_EQ(refusal(r.resolve("..\\..\\etc\\passwd")), ErrorCode::access_violation);
}

TEST(TftpPathResolver, DotDotIsRefusedEvenWhenItWouldStayInside) {
  TempTree t;
  t.file("root/a.bin");
  t.file("secret.txt");
  PathResolver r({t.dir() / "root"});
  EXPECT_EQ(refusal(r.resolve("../secret.txt")), ErrorCode::access_violation);
  EXPECT_EQ(refusal(r.resolve("sub/../a.bin")), ErrorCode::access_violation);
  EXPECT_EQ(refusal(r.resolve("/../../etc/passwd")), ErrorCode::access_violation);
  EXPECT_EQ(refusal(r.resolve("..")), ErrorCode::access_violation);
  // A name that merely contains dots is fine.
  t.file("root/a..b");
  EXPECT_TRUE(resolved(r.resolve("a..b")));
}

TEST(TftpPathResolver, NulEmptyAndDirectoryNamesAreRefused) {
  TempTree t;
  t.file("root/sub/f");
  PathResolver r({t.dir() / "root"});
  EXPECT_EQ(refusal(r.resolve(std::string_view("sub/f\0x", 7))), ErrorCode::access_violation);
  EXPECT_EQ(refusal(r.resolve("")), ErrorCode::access_violation);
  EXPECT_EQ(refusal(r.resolve("/")), ErrorCode::access_violation);
  EXPECT_EQ(refusal(r.resolve(".")), ErrorCode::access_violation);
  EXPECT_EQ(refusal(r.resolve("sub")), ErrorCode::access_violation);
}

TEST(TftpPathResolver, SymlinkLeavingTheRootIsRefused) {
  TempTree t;
  t.file("outside/secret.txt");
  t.file("root/real.bin");
  fs::create_directories(t.dir() / "root");
  fs::create_symlink(t.dir() / "outside/secret.txt", t.dir() / "root/evil");
  fs::create_symlink("../outside", t.dir() / "root/evildir");
  fs::create_symlink("/etc/passwd", t.dir() / "root/passwd");
  fs::create_symlink("real.bin", t.dir() / "root/alias.bin");  // stays inside: allowed
  PathResolver r({t.dir() / "root"});
  EXPECT_EQ(refusal(r.resolve("evil")), ErrorCode::access_violation);
  EXPECT_EQ(refusal(r.resolve("evildir/secret.txt")), ErrorCode::access_violation);
  EXPECT_EQ(refusal(r.resolve("passwd")), ErrorCode::access_violation);
  auto alias = r.resolve("alias.bin");
  ASSERT_TRUE(resolved(alias));
  EXPECT_EQ(resolved(alias)->path, fs::canonical(t.dir() / "root/real.bin"));
}

TEST(TftpPathResolver, RootThatIsItselfASymlinkWorks) {
  TempTree t;
  t.file("real-root/f.bin");
  fs::create_directory_symlink(t.dir() / "real-root", t.dir() / "link-root");
  PathResolver r({t.dir() / "link-root"});
  EXPECT_TRUE(resolved(r.resolve("f.bin")));
}

TEST(TftpPathResolver, SiblingWithRootAsPrefixIsOutside) {
  // "/srv/tftp-evil" starts with the string "/srv/tftp" but is not inside it.
  TempTree t;
  t.file("tftp-evil/x");
  fs::create_directories(t.dir() / "tftp");
  fs::create_symlink(t.dir() / "tftp-evil/x", t.dir() / "tftp/x");
  PathResolver r({t.dir() / "tftp"});
  EXPECT_EQ(refusal(r.resolve("x")), ErrorCode::access_violation);
  EXPECT_FALSE(PathResolver::is_inside(t.dir() / "tftp-evil/x", t.dir() / "tftp"));
  EXPECT_TRUE(PathResolver::is_inside(t.dir() / "tftp/x", t.dir() / "tftp"));
  EXPECT_FALSE(PathResolver::is_inside(t.dir() / "tftp", t.dir() / "tftp"));
}

TEST(TftpPathResolver, RootsAreSearchedInOrder) {
  TempTree t;
  auto first = t.file("assets/undionly.kpxe", "ours");
  t.file("ipxe/undionly.kpxe", "package");
  t.file("ipxe/ipxe.efi", "package");
  PathResolver r({t.dir() / "assets", t.dir() / "missing", t.dir() / "ipxe"});
  EXPECT_EQ(r.roots().size(), 2U);
  EXPECT_EQ(r.missing_roots().size(), 1U);
  EXPECT_EQ(resolved(r.resolve("undionly.kpxe"))->path, fs::canonical(first));
  EXPECT_EQ(resolved(r.resolve("ipxe.efi"))->root, fs::canonical(t.dir() / "ipxe"));
  EXPECT_EQ(refusal(r.resolve("nothing.bin")), ErrorCode::file_not_found);
}

TEST(TftpPathResolver, DanglingSymlinkIsNotFound) {
  TempTree t;
  fs::create_directories(t.dir() / "root");
  fs::create_symlink(t.dir() / "gone", t.dir() / "root/dangling");
  PathResolver r({t.dir() / "root"});
  EXPECT_EQ(refusal(r.resolve("dangling")), ErrorCode::file_not_found);
}
