// OCI image layout (index.json + blobs/sha256/...) or `docker save` tarball
// (manifest.json + layer tars), read from a tar file without unpacking it:
// only the layers are decoded, one file each, into the work directory.
#include <algorithm>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <vector>

#include "core/json_nesting.hpp"
#include "image/byte_sink.hpp"
#include "image/decompress.hpp"
#include "image/image_error.hpp"
#include "image/sources.hpp"
#include "image/tar_reader.hpp"

namespace ramfleet::image {
namespace {

constexpr std::string_view kWhiteoutPrefix = ".wh.";
constexpr std::string_view kOpaqueWhiteout = ".wh..wh..opq";
constexpr int kMaxJsonDepth = 64;

struct Member {
  std::uint64_t offset = 0, size = 0;
  std::string symlink;  // docker save links identical layers to one another
};

class OuterArchive {
 public:
  OuterArchive(std::filesystem::path file, const ImageLimits& limits)
      : file_(std::move(file)), source_(file_), limits_(limits) {
    // read_tar bounds the member count and name lengths, so members_ is bounded.
    read_tar(source_, 0, source_.size(), file_.string(), limits_, [&](const TarMember& m) {
      auto name = normalize_path(m.path);
      if (!name) return;
      if (m.typeflag == '0' || m.typeflag == '7') members_[*name] = {m.data_offset, m.size, ""};
      if (m.typeflag == '2') members_[*name] = {0, 0, m.linkname};
    });
  }

  [[nodiscard]] bool has(const std::string& name) const { return members_.count(name) != 0; }

  const Member& get(const std::string& name, int depth = 0) const {
    auto it = members_.find(name);
    if (it == members_.end()) throw ImageError(file_.string() + ": missing " + name);
    if (it->second.symlink.empty()) return it->second;
    if (depth > 8) throw ImageError(file_.string() + ": symlink loop at " + name);
    auto slash = name.rfind('/');
    auto base = slash == std::string::npos ? std::string() : name.substr(0, slash + 1);
    auto target = normalize_path(it->second.symlink.front() == '/' ? it->second.symlink : base + it->second.symlink);
    if (!target) throw ImageError(file_.string() + ": bad symlink " + name);
    return get(*target, depth + 1);
  }

  [[nodiscard]] nlohmann::json json(const std::string& name) {
    const auto& m = get(name);
    if (m.size > limits_.max_json_bytes)
      throw ImageError(file_.string() + ": " + name + " is " + std::to_string(m.size) +
                       " bytes, more than the limit of " + std::to_string(limits_.max_json_bytes) +
                       " bytes for a JSON document (--max-json-size)");
    std::string text(static_cast<std::size_t>(m.size), '\0');
    if (source_.read_at(m.offset, {reinterpret_cast<std::uint8_t*>(text.data()), text.size()}) != text.size())
      throw ImageError(file_.string() + ": " + name + " is truncated");
    // Nesting is bounded by the document size; nlohmann's parser is recursive,
    // so a deeply nested document is refused before it can exhaust the stack.
    if (!json_nests_within(text, kMaxJsonDepth))
      throw ImageError(file_.string() + ": " + name + " nests deeper than " + std::to_string(kMaxJsonDepth) +
                       " levels");
    auto doc = nlohmann::json::parse(text, nullptr, false);
    if (doc.is_discarded()) throw ImageError(file_.string() + ": " + name + " is not valid JSON");
    return doc;
  }

  [[nodiscard]] std::string sha256_of(const Member& m) {
    HashingSink h(nullptr);
    std::vector<std::uint8_t> buf(1 << 17);
    std::uint64_t pos = m.offset;
    for (std::uint64_t left = m.size; left > 0;) {
      auto n = static_cast<std::size_t>(std::min<std::uint64_t>(left, buf.size()));
      if (source_.read_at(pos, {buf.data(), n}) != n) throw ImageError(file_.string() + ": truncated blob");
      h.write({buf.data(), n});
      pos += n;
      left -= n;
    }
    h.finish();
    return h.hex_digest();
  }

  [[nodiscard]] const std::filesystem::path& file() const { return file_; }
  [[nodiscard]] ByteSource& source() { return source_; }

 private:
  std::filesystem::path file_;
  FileSource source_;
  const ImageLimits& limits_;
  std::map<std::string, Member> members_;
};

std::string blob_path(const std::string& digest) {
  auto colon = digest.find(':');
  if (colon == std::string::npos || digest.find('/') != std::string::npos || digest.find("..") != std::string::npos)
    throw ImageError("bad digest '" + digest + "'");
  return "blobs/" + digest.substr(0, colon) + "/" + digest.substr(colon + 1);
}

// Picks linux/amd64 from an index (nested indexes followed), else the first.
nlohmann::json resolve_manifest(OuterArchive& a, nlohmann::json doc, int depth = 0) {
  if (depth > 4) throw ImageError(a.file().string() + ": index nesting too deep");
  if (!doc.is_object()) throw ImageError(a.file().string() + ": an index or manifest is not a JSON object");
  if (doc.contains("layers")) return doc;
  if (!doc.contains("manifests") || !doc["manifests"].is_array() || doc["manifests"].empty())
    throw ImageError(a.file().string() + ": index has no manifests");
  const nlohmann::json* pick = &doc["manifests"][0];
  for (const auto& m : doc["manifests"]) {
    if (!m.is_object()) throw ImageError(a.file().string() + ": an index entry is not a JSON object");
    auto p = m.value("platform", nlohmann::json::object());
    if (p.is_object() && p.value("os", "") == "linux" && p.value("architecture", "") == "amd64") {
      pick = &m;
      break;
    }
  }
  if (!pick->is_object()) throw ImageError(a.file().string() + ": an index entry is not a JSON object");
  return resolve_manifest(a, a.json(blob_path(pick->value("digest", ""))), depth + 1);
}

}  // namespace

std::size_t apply_layer(FsTree& tree, const std::filesystem::path& layer_tar, const std::string& what,
                        const ImageLimits& limits) {
  FileSource source(layer_tar);
  return apply_layer(tree, source, layer_tar, what, limits);
}

std::size_t apply_layer(FsTree& tree, ByteSource& source, const std::filesystem::path& layer_tar,
                        const std::string& what, const ImageLimits& limits) {
  // Two passes over the layer instead of holding its members: whiteouts
  // first (they hide only lower layers), then the entries. Memory stays the
  // tree's, whatever the layer holds.
  auto visit = [&](const std::function<void(const TarMember&, const std::string& path)>& fn) {
    read_tar(source, 0, source.size(), what, limits, [&](const TarMember& m) {
      auto path = normalize_path(m.path);
      if (!path) {
        if (m.path.find("..") != std::string::npos) throw ImageError(what + ": entry escapes the root: " + m.path);
        return;  // "./" itself
      }
      fn(m, *path);
    });
  };
  auto split = [](const std::string& path) {
    auto slash = path.rfind('/');
    return slash == std::string::npos ? std::pair<std::string, std::string>{"", path}
                                      : std::pair{path.substr(0, slash), path.substr(slash + 1)};
  };
  std::size_t whiteouts = 0;
  visit([&](const TarMember&, const std::string& path) {
    auto [dir, base] = split(path);
    if (base == kOpaqueWhiteout) {
      if (dir.empty()) {
        tree = FsTree{};
      } else {
        tree.clear_children(dir);
      }
      ++whiteouts;
    } else if (base.starts_with(kWhiteoutPrefix)) {
      auto hidden = base.substr(kWhiteoutPrefix.size());
      tree.remove(dir.empty() ? hidden : dir + "/" + hidden);
      ++whiteouts;
    }
  });
  visit([&](const TarMember& m, const std::string& path) {
    if (split(path).second.starts_with(kWhiteoutPrefix)) return;
    FsEntry e;
    e.permissions = m.mode & 07777;
    e.uid = m.uid;
    e.gid = m.gid;
    e.mtime = m.mtime;
    switch (m.typeflag) {
      case '0':
      case '7':
        e.type = EntryType::regular;
        e.data = {layer_tar, m.data_offset, m.size};
        break;
      case '1': {
        // A copy of what the target is now: links resolve in archive order,
        // so a link to itself or a cycle of links finds nothing and fails.
        auto target = normalize_path(m.linkname);
        const FsEntry* t = target ? tree.find(*target) : nullptr;
        if (t == nullptr) throw ImageError(what + ": hard link " + path + " to missing " + m.linkname);
        e = *t;
        break;
      }
      case '2':
        e.type = EntryType::symlink;
        e.link_target = m.linkname;
        break;
      case '3':
      case '4':
        e.type = m.typeflag == '3' ? EntryType::char_device : EntryType::block_device;
        e.rdev_major = m.devmajor;
        e.rdev_minor = m.devminor;
        break;
      case '5':
        e.type = EntryType::directory;
        break;
      case '6':
        e.type = EntryType::fifo;
        break;
      default:
        return;  // sparse files, volume labels: not in image layers
    }
    tree.put(path, e);
    // Parents made for a deep path count too.
    if (tree.entries().size() > limits.max_entries)
      throw ImageError(what + ": the image has more than " + std::to_string(limits.max_entries) + " entries at " +
                       path + " (--max-entries)");
  });
  return whiteouts;
}

FsTree load_oci_archive(const std::filesystem::path& archive, const std::filesystem::path& work_dir, SourceInfo& info,
                        const ImageLimits& limits) {
  if (!std::filesystem::is_regular_file(archive)) throw ImageError(archive.string() + ": not a file");
  OuterArchive a(archive, limits);
  info.path = archive.string();
  struct Layer {
    std::string name;
    const Member* member;
    std::string digest;  // verified when known
  };
  std::vector<Layer> layers;
  auto add_layer = [&](Layer l) {
    if (layers.size() >= limits.max_layers)
      throw ImageError(archive.string() + ": more than " + std::to_string(limits.max_layers) +
                       " layers (--max-layers)");
    layers.push_back(std::move(l));
  };
  // The manifests are input too: a wrong type anywhere is an error naming
  // the archive, not a bare JSON exception.
  try {
    if (a.has("oci-layout") && a.has("index.json")) {
      info.kind = "oci-layout";
      auto manifest = resolve_manifest(a, a.json("index.json"));
      if (!manifest["layers"].is_array()) throw ImageError(archive.string() + ": manifest layers is not a list");
      for (const auto& l : manifest["layers"]) {
        auto digest = l.value("digest", "");
        add_layer({digest, &a.get(blob_path(digest)), digest});
      }
    } else if (a.has("manifest.json")) {
      info.kind = "docker-archive";
      auto doc = a.json("manifest.json");
      if (!doc.is_array() || doc.empty() || !doc[0].is_object() || !doc[0].contains("Layers") ||
          !doc[0]["Layers"].is_array())
        throw ImageError(archive.string() + ": manifest.json has no Layers");
      for (const auto& l : doc[0]["Layers"]) {
        auto name = normalize_path(l.get<std::string>());
        if (!name) throw ImageError(archive.string() + ": bad layer path");
        add_layer({*name, &a.get(*name), ""});
      }
    } else {
      throw ImageError(archive.string() +
                       ": neither an OCI image layout (oci-layout, index.json) nor a docker save "
                       "archive (manifest.json)");
    }
  } catch (const nlohmann::json::exception& e) {
    throw ImageError(archive.string() + ": unexpected manifest structure: " + e.what());
  }

  FsTree tree;
  std::filesystem::create_directories(work_dir);
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const auto& l = layers[i];
    auto what = archive.string() + ": layer " + l.name;
    if (l.digest.starts_with("sha256:") && a.sha256_of(*l.member) != l.digest.substr(7))
      throw ImageError(archive.string() + ": layer " + l.digest + " does not match its digest");
    auto tar = work_dir / ("layer-" + std::to_string(i) + ".tar");
    // The tighter of the two caps applies, and the error names it.
    DecodeLimit limit{limits.max_layer_bytes, "the per-layer limit (--max-layer-size)"};
    if (limits.max_total_bytes - total < limit.bytes)
      limit = {limits.max_total_bytes - total,
               "the image limit (--max-image-size) with " + std::to_string(total) + " bytes already unpacked, leaving"};
    total += decode_region(archive, l.member->offset, l.member->size, tar, what, limit);
    info.whiteouts += apply_layer(tree, tar, what, limits);
    info.layers.push_back(l.name);
  }
  return tree;
}

}  // namespace ramfleet::image
