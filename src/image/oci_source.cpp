// OCI image layout (index.json + blobs/sha256/...) or `docker save` tarball
// (manifest.json + layer tars), read from a tar file without unpacking it:
// only the layers are decoded, one file each, into the work directory.
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <vector>

#include "image/byte_sink.hpp"
#include "image/decompress.hpp"
#include "image/image_error.hpp"
#include "image/sources.hpp"
#include "image/tar_reader.hpp"

namespace ramfleet::image {
namespace {

constexpr std::string_view kWhiteoutPrefix = ".wh.";
constexpr std::string_view kOpaqueWhiteout = ".wh..wh..opq";

struct Member {
  std::uint64_t offset = 0, size = 0;
  std::string symlink;  // docker save links identical layers to one another
};

class OuterArchive {
 public:
  explicit OuterArchive(std::filesystem::path file) : file_(std::move(file)) {
    auto size = std::filesystem::file_size(file_);
    read_tar(file_, 0, size, file_.string(), [&](const TarMember& m) {
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

  [[nodiscard]] nlohmann::json json(const std::string& name) const {
    const auto& m = get(name);
    if (m.size > (16u << 20)) throw ImageError(file_.string() + ": " + name + " is too large for a JSON document");
    std::string text(static_cast<std::size_t>(m.size), '\0');
    std::ifstream in(file_, std::ios::binary);
    in.seekg(static_cast<std::streamoff>(m.offset));
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    auto doc = nlohmann::json::parse(text, nullptr, false);
    if (doc.is_discarded()) throw ImageError(file_.string() + ": " + name + " is not valid JSON");
    return doc;
  }

  [[nodiscard]] std::string sha256_of(const Member& m) const {
    HashingSink h(nullptr);
    std::ifstream in(file_, std::ios::binary);
    in.seekg(static_cast<std::streamoff>(m.offset));
    std::vector<std::uint8_t> buf(1 << 17);
    for (std::uint64_t left = m.size; left > 0;) {
      auto n = static_cast<std::size_t>(std::min<std::uint64_t>(left, buf.size()));
      in.read(reinterpret_cast<char*>(buf.data()), static_cast<std::streamsize>(n));
      if (static_cast<std::size_t>(in.gcount()) != n) throw ImageError(file_.string() + ": truncated blob");
      h.write({buf.data(), n});
      left -= n;
    }
    h.finish();
    return h.hex_digest();
  }

  [[nodiscard]] const std::filesystem::path& file() const { return file_; }

 private:
  std::filesystem::path file_;
  std::map<std::string, Member> members_;
};

std::string blob_path(const std::string& digest) {
  auto colon = digest.find(':');
  if (colon == std::string::npos || digest.find('/') != std::string::npos || digest.find("..") != std::string::npos)
    throw ImageError("bad digest '" + digest + "'");
  return "blobs/" + digest.substr(0, colon) + "/" + digest.substr(colon + 1);
}

// Picks linux/amd64 from an index (nested indexes followed), else the first.
nlohmann::json resolve_manifest(const OuterArchive& a, nlohmann::json doc, int depth = 0) {
  if (depth > 4) throw ImageError(a.file().string() + ": index nesting too deep");
  if (doc.contains("layers")) return doc;
  if (!doc.contains("manifests") || !doc["manifests"].is_array() || doc["manifests"].empty())
    throw ImageError(a.file().string() + ": index has no manifests");
  const nlohmann::json* pick = &doc["manifests"][0];
  for (const auto& m : doc["manifests"]) {
    auto p = m.value("platform", nlohmann::json::object());
    if (p.value("os", "") == "linux" && p.value("architecture", "") == "amd64") {
      pick = &m;
      break;
    }
  }
  return resolve_manifest(a, a.json(blob_path(pick->value("digest", ""))), depth + 1);
}

}  // namespace

std::size_t apply_layer(FsTree& tree, const std::filesystem::path& layer_tar, const std::string& what) {
  std::vector<TarMember> members;
  read_tar(layer_tar, 0, std::filesystem::file_size(layer_tar), what,
           [&](const TarMember& m) { members.push_back(m); });
  std::size_t whiteouts = 0;
  std::vector<std::pair<std::string, const TarMember*>> entries;
  for (const auto& m : members) {
    auto path = normalize_path(m.path);
    if (!path) {
      if (m.path.find("..") != std::string::npos) throw ImageError(what + ": entry escapes the root: " + m.path);
      continue;  // "./" itself
    }
    auto slash = path->rfind('/');
    auto dir = slash == std::string::npos ? std::string() : path->substr(0, slash);
    auto base = slash == std::string::npos ? *path : path->substr(slash + 1);
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
    } else {
      entries.emplace_back(*path, &m);
    }
  }
  for (const auto& [path, mp] : entries) {
    const auto& m = *mp;
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
        continue;  // sparse files, volume labels: not in image layers
    }
    tree.put(path, e);
  }
  return whiteouts;
}

FsTree load_oci_archive(const std::filesystem::path& archive, const std::filesystem::path& work_dir, SourceInfo& info) {
  if (!std::filesystem::is_regular_file(archive)) throw ImageError(archive.string() + ": not a file");
  OuterArchive a(archive);
  info.path = archive.string();
  struct Layer {
    std::string name;
    const Member* member;
    std::string digest;  // verified when known
  };
  std::vector<Layer> layers;
  if (a.has("oci-layout") && a.has("index.json")) {
    info.kind = "oci-layout";
    auto manifest = resolve_manifest(a, a.json("index.json"));
    for (const auto& l : manifest["layers"]) {
      auto digest = l.value("digest", "");
      layers.push_back({digest, &a.get(blob_path(digest)), digest});
    }
  } else if (a.has("manifest.json")) {
    info.kind = "docker-archive";
    auto doc = a.json("manifest.json");
    if (!doc.is_array() || doc.empty() || !doc[0].contains("Layers"))
      throw ImageError(archive.string() + ": manifest.json has no Layers");
    for (const auto& l : doc[0]["Layers"]) {
      auto name = normalize_path(l.get<std::string>());
      if (!name) throw ImageError(archive.string() + ": bad layer path");
      layers.push_back({*name, &a.get(*name), ""});
    }
  } else {
    throw ImageError(archive.string() +
                     ": neither an OCI image layout (oci-layout, index.json) nor a docker save "
                     "archive (manifest.json)");
  }

  FsTree tree;
  std::filesystem::create_directories(work_dir);
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const auto& l = layers[i];
    if (l.digest.starts_with("sha256:") && a.sha256_of(*l.member) != l.digest.substr(7))
      throw ImageError(archive.string() + ": layer " + l.digest + " does not match its digest");
    auto tar = work_dir / ("layer-" + std::to_string(i) + ".tar");
    decode_region(archive, l.member->offset, l.member->size, tar);
    info.whiteouts += apply_layer(tree, tar, archive.string() + ": layer " + l.name);
    info.layers.push_back(l.name);
  }
  return tree;
}

}  // namespace ramfleet::image
