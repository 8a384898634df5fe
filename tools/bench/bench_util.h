// Small helpers for benchmark programs: latency percentiles and a plain-text table.
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <vector>

#include "core/time_point.h"

namespace tierkv::bench {

class LatencyRecorder {
 public:
  void Add(Duration d) { samples_.push_back(d.count()); }
  void Merge(const LatencyRecorder& other) {
    samples_.insert(samples_.end(), other.samples_.begin(), other.samples_.end());
  }
  double Mean() const {
    double sum = 0;
    for (int64_t s : samples_) sum += static_cast<double>(s);
    return samples_.empty() ? 0 : sum / static_cast<double>(samples_.size());
  }
  double Percentile(double p) {
    if (samples_.empty()) return 0;
    std::sort(samples_.begin(), samples_.end());
    size_t index = std::min(samples_.size() - 1, static_cast<size_t>(p * static_cast<double>(samples_.size())));
    return static_cast<double>(samples_[index]);
  }
  // "12.3 / 11.0 / 40.1 us"
  std::string Summary() {
    return fmt::format("{:.1f} / {:.1f} / {:.1f} us", Mean() / 1e3, Percentile(0.5) / 1e3,
                       Percentile(0.99) / 1e3);
  }

 private:
  std::vector<int64_t> samples_;
};

class Table {
 public:
  explicit Table(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
  void Row(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  // A Markdown table, ready to paste into docs/performance.md.
  std::string Render() const {
    std::vector<size_t> width(rows_[0].size(), 0);
    for (const auto& row : rows_) {
      for (size_t i = 0; i < row.size(); i++) width[i] = std::max(width[i], row[i].size());
    }
    std::string out;
    for (size_t r = 0; r < rows_.size(); r++) {
      out += "|";
      for (size_t i = 0; i < rows_[r].size(); i++) out += fmt::format(" {:<{}} |", rows_[r][i], width[i]);
      out += "\n";
      if (r == 0) {
        out += "|";
        for (size_t w : width) out += std::string(w + 2, '-') + "|";
        out += "\n";
      }
    }
    return out;
  }

 private:
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace tierkv::bench
