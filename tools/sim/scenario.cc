#include "tools/sim/scenario.h"

#include <fstream>
#include <sstream>

namespace tierkv::simtool {
namespace {

std::string Trim(const std::string& s) {
  size_t begin = s.find_first_not_of(" \t\r");
  if (begin == std::string::npos) return "";
  size_t end = s.find_last_not_of(" \t\r");
  return s.substr(begin, end - begin + 1);
}

Status SetKey(ScenarioSpec& spec, const std::string& key, const std::string& value) {
  try {
    if (key == "workload") spec.workload = value;
    else if (key == "nodes") spec.nodes = std::stoi(value);
    else if (key == "executors") spec.executors = std::stoi(value);
    else if (key == "duration_s") spec.duration = seconds(std::stoll(value));
    else if (key == "crashes") spec.crashes = std::stoi(value);
    else if (key == "partitions") spec.partitions = std::stoi(value);
    else if (key == "disk_error_probability") spec.faults.disk_error_probability = std::stod(value);
    else if (key == "disk_error_budget") spec.faults.disk_error_budget = std::stoi(value);
    else if (key == "slow_io_probability") spec.faults.slow_io_probability = std::stod(value);
    else if (key == "disk_capacity_bytes") spec.faults.disk_capacity_bytes = std::stoull(value);
    else if (key == "net_reset_probability") spec.faults.net_reset_probability = std::stod(value);
    else if (key == "net_reset_budget") spec.faults.net_reset_budget = std::stoi(value);
    else if (key == "max_clock_skew_ms") spec.faults.max_clock_skew = milliseconds(std::stoll(value));
    else if (key == "link_latency_min_us") spec.faults.link_latency_min = microseconds(std::stoll(value));
    else if (key == "link_latency_max_us") spec.faults.link_latency_max = microseconds(std::stoll(value));
    else if (key.starts_with("workload.")) spec.workload_options[key.substr(9)] = value;
    else return Status(StatusCode::kInvalidArgument, "unknown key '" + key + "'");
  } catch (const std::exception&) {
    return Status(StatusCode::kInvalidArgument, "bad value '" + value + "' for " + key);
  }
  return Status::Ok();
}

}  // namespace

Result<ScenarioSpec> ParseScenario(const std::string& name, const std::string& text) {
  ScenarioSpec spec;
  spec.name = name;
  std::istringstream lines(text);
  std::string line;
  int number = 0;
  while (std::getline(lines, line)) {
    number++;
    line = Trim(line.substr(0, line.find('#')));
    if (line.empty()) continue;
    size_t eq = line.find('=');
    if (eq == std::string::npos) {
      return Err(StatusCode::kInvalidArgument,
                 name + ":" + std::to_string(number) + ": expected key = value");
    }
    Status status = SetKey(spec, Trim(line.substr(0, eq)), Trim(line.substr(eq + 1)));
    if (!status.ok()) {
      return Err(StatusCode::kInvalidArgument,
                 name + ":" + std::to_string(number) + ": " + status.message());
    }
  }
  if (spec.workload.empty()) return Err(StatusCode::kInvalidArgument, name + ": no workload");
  if (spec.nodes < 1 || spec.executors < 1) {
    return Err(StatusCode::kInvalidArgument, name + ": nodes and executors must be >= 1");
  }
  return spec;
}

Result<ScenarioSpec> LoadScenario(const std::string& dir, const std::string& name) {
  std::string path = dir + "/" + name + ".scenario";
  std::ifstream in(path);  // the tool reads its own input files; not node code
  if (!in) return Err(StatusCode::kNotFound, "no scenario file " + path);
  std::stringstream text;
  text << in.rdbuf();
  return ParseScenario(name, text.str());
}

}  // namespace tierkv::simtool
