// Operator approval records: STATE/approved/<node>, private, and impossible to
// aim outside that directory.
#include "kube/approval.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <stdexcept>

#include "kube/secret_files.hpp"

namespace ramfleet::kube {
namespace {

namespace fs = std::filesystem;

class ApprovalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    state = fs::temp_directory_path() / ("ramfleet-approval-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(state);
  }
  void TearDown() override { fs::remove_all(state); }
  fs::path state;
};

TEST_F(ApprovalTest, ApproveListRevoke) {
  EXPECT_FALSE(node_approved(state, "cp1"));
  EXPECT_TRUE(approved_nodes(state).empty());  // no directory yet is not an error
  approve_node(state, "cp2", "alice");
  approve_node(state, "cp1.lab.example", "bob");
  EXPECT_TRUE(node_approved(state, "cp2"));
  EXPECT_TRUE(node_approved(state, "cp1.lab.example"));
  EXPECT_FALSE(node_approved(state, "cp1"));
  EXPECT_EQ(approved_nodes(state), (std::vector<std::string>{"cp1.lab.example", "cp2"}));
  const auto record = read_file_or_throw(state / "approved/cp2");
  EXPECT_NE(record.find("approved-by: alice\n"), std::string::npos) << record;
  EXPECT_NE(record.find("approved-at: "), std::string::npos) << record;

  EXPECT_TRUE(revoke_approval(state, "cp2"));
  EXPECT_FALSE(node_approved(state, "cp2"));
  EXPECT_FALSE(revoke_approval(state, "cp2"));
  EXPECT_EQ(approved_nodes(state), std::vector<std::string>{"cp1.lab.example"});
}

TEST_F(ApprovalTest, ReapprovingIsIdempotent) {
  approve_node(state, "cp1", "alice");
  approve_node(state, "cp1", "bob");
  EXPECT_EQ(approved_nodes(state), std::vector<std::string>{"cp1"});
  EXPECT_NE(read_file_or_throw(state / "approved/cp1").find("approved-by: bob\n"), std::string::npos);
}

TEST_F(ApprovalTest, FilesArePrivate) {
  approve_node(state, "cp1", "alice");
  EXPECT_EQ(fs::status(state / "approved").permissions() & fs::perms::all, fs::perms::owner_all);
  EXPECT_EQ(fs::status(state / "approved/cp1").permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_EQ(fs::status(state).permissions() & fs::perms::all, fs::perms::owner_all);
}

TEST_F(ApprovalTest, BadNamesNeverTouchTheFilesystem) {
  const std::vector<std::string> names{"",     ".",    "..",   "../evil", "a/b",   "/etc/passwd",        "CP1",
                                       "cp1.", ".cp1", "cp_1", "-cp1",    "cp1\n", std::string(254, 'a')};
  for (const auto& bad : names) {
    EXPECT_THROW(approve_node(state, bad, "alice"), std::invalid_argument) << bad;
    EXPECT_THROW(revoke_approval(state, bad), std::invalid_argument) << bad;
    EXPECT_FALSE(node_approved(state, bad)) << bad;
  }
  EXPECT_FALSE(fs::exists(state));
  EXPECT_FALSE(fs::exists(fs::temp_directory_path() / "evil"));
}

TEST_F(ApprovalTest, ApproverMustBePrintable) {
  EXPECT_THROW(approve_node(state, "cp1", "alice\napproved-by: mallory"), std::invalid_argument);
  EXPECT_THROW(approve_node(state, "cp1", std::string(257, 'a')), std::invalid_argument);
  EXPECT_FALSE(node_approved(state, "cp1"));
}

TEST_F(ApprovalTest, OnlyRegularFilesCount) {
  // Something other than an approval record at the path (a directory, a
  // symlink someone planted) is not an approval, and a leftover temp file is
  // not listed.
  make_private_dirs(state / "approved/cp1");
  fs::create_symlink("/etc/hostname", state / "approved/cp2");
  write_file_atomic(state / "approved/.cp3.tmp-0011", "x");
  EXPECT_FALSE(node_approved(state, "cp1"));
  EXPECT_FALSE(node_approved(state, "cp2"));
  EXPECT_TRUE(approved_nodes(state).empty());
}

}  // namespace
}  // namespace ramfleet::kube
