#pragma once
// Image sources: a root file system directory, or an OCI image archive (an
// OCI image layout or a `docker save` tarball, as a tar file). Each loads into
// an FsTree; layer data is unpacked into `work_dir`, which must outlive the
// tree (its files are where the tree's regular files point).
#include <filesystem>
#include <string>
#include <vector>

#include "image/fs_tree.hpp"

namespace ramfleet::image {

struct SourceInfo {
  std::string kind;                 // "directory", "oci-layout", "docker-archive"
  std::string path;                 // as given
  std::vector<std::string> layers;  // layer digests (or names), bottom first
  std::size_t whiteouts = 0;        // whiteouts applied
};

FsTree load_directory(const std::filesystem::path& root, SourceInfo& info);

FsTree load_oci_archive(const std::filesystem::path& archive, const std::filesystem::path& work_dir, SourceInfo& info);

// Applies one layer (an uncompressed tar file) on top of `tree`: whiteouts
// first (they hide only lower layers), then the layer's entries. Returns the
// number of whiteouts applied.
std::size_t apply_layer(FsTree& tree, const std::filesystem::path& layer_tar, const std::string& what);

}  // namespace ramfleet::image
