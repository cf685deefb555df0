#pragma once
// Image sources: a root file system directory, or an OCI image archive (an
// OCI image layout or a `docker save` tarball, as a tar file). Each loads into
// an FsTree; layer data is unpacked into `work_dir`, which must outlive the
// tree (its files are where the tree's regular files point).
#include <filesystem>
#include <string>
#include <vector>

#include "image/byte_source.hpp"
#include "image/fs_tree.hpp"
#include "image/image_limits.hpp"

namespace ramfleet::image {

struct SourceInfo {
  std::string kind;                 // "directory", "oci-layout", "docker-archive"
  std::string path;                 // as given
  std::vector<std::string> layers;  // layer digests (or names), bottom first
  std::size_t whiteouts = 0;        // whiteouts applied
};

FsTree load_directory(const std::filesystem::path& root, SourceInfo& info);

// Every size, count and name in the archive and its layers is checked against
// `limits`; exceeding one is an ImageError naming the archive, the layer and
// the entry, and the flag that raises the cap.
FsTree load_oci_archive(const std::filesystem::path& archive, const std::filesystem::path& work_dir, SourceInfo& info,
                        const ImageLimits& limits = {});

// Applies one layer (an uncompressed tar file) on top of `tree`: whiteouts
// first (they hide only lower layers), then the layer's entries. Returns the
// number of whiteouts applied.
std::size_t apply_layer(FsTree& tree, const std::filesystem::path& layer_tar, const std::string& what,
                        const ImageLimits& limits = {});
// The same on a layer read from `source`; regular files point into
// `layer_tar`, which must hold the same bytes when the image is written.
std::size_t apply_layer(FsTree& tree, ByteSource& source, const std::filesystem::path& layer_tar,
                        const std::string& what, const ImageLimits& limits = {});

}  // namespace ramfleet::image
