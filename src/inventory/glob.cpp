#include "inventory/glob.hpp"

#include <vector>

namespace ramfleet::inventory {

bool is_glob(std::string_view p) { return p.find_first_of("*?") != std::string_view::npos; }

int glob_literal_count(std::string_view p) {
  int n = 0;
  for (char c : p)
    if (c != '*' && c != '?') ++n;
  return n;
}

bool glob_match(std::string_view p, std::string_view t) {
  // Iterative matcher with single backtrack point: linear in practice, no recursion.
  std::size_t pi = 0, ti = 0, star = std::string_view::npos, mark = 0;
  while (ti < t.size()) {
    if (pi < p.size() && (p[pi] == '?' || p[pi] == t[ti])) {
      ++pi;
      ++ti;
    } else if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = ti;
    } else if (star != std::string_view::npos) {
      pi = star + 1;
      ti = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

bool glob_intersects(std::string_view a, std::string_view b) {
  // reach[i][j]: some common string prefix brings pattern a to position i and b to j.
  const std::size_t n = a.size(), m = b.size();
  std::vector<std::vector<char>> seen(n + 1, std::vector<char>(m + 1, 0));
  std::vector<std::pair<std::size_t, std::size_t>> work{{0, 0}};
  seen[0][0] = 1;
  auto push = [&](std::size_t i, std::size_t j) {
    if (i <= n && j <= m && !seen[i][j]) {
      seen[i][j] = 1;
      work.emplace_back(i, j);
    }
  };
  while (!work.empty()) {
    auto [i, j] = work.back();
    work.pop_back();
    if (i == n && j == m) return true;
    const bool sa = i < n && a[i] == '*';
    const bool sb = j < m && b[j] == '*';
    if (sa) push(i + 1, j);           // a's star matches nothing more
    if (sb) push(i, j + 1);           // b's star matches nothing more
    if (sa && j < m) push(i, j + 1);  // a's star absorbs b's next element (char, ? or star)
    if (sb && i < n) push(i + 1, j);  // b's star absorbs a's next element
    if (!sa && !sb && i < n && j < m && (a[i] == '?' || b[j] == '?' || a[i] == b[j])) push(i + 1, j + 1);
  }
  return false;
}

}  // namespace ramfleet::inventory
