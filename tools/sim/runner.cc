#include "tools/sim/runner.h"

#include "sim/sim_env.h"
#include "sim/sim_net.h"
#include "tools/sim/workload.h"

namespace tierkv::simtool {
namespace {

// Spreads the scenario's crashes and partitions over the run at seeded times.
void ScheduleFaults(const ScenarioSpec& spec, sim::World& world) {
  std::vector<std::string> names;
  for (sim::SimNode* node : world.nodes()) names.push_back(node->name());
  Prng& prng = world.prng();
  auto random_time = [&] {
    return world.Now() + Duration(prng.Uniform(static_cast<uint64_t>(spec.duration.count())));
  };
  uint64_t label = sim::EventLabel(sim::EventKind::kScenario, 0);
  for (int i = 0; i < spec.crashes; i++) {
    std::string victim = names[prng.Uniform(names.size())];
    TimePoint at = random_time();
    Duration down = milliseconds(prng.Range(100, 2000));
    world.Schedule(at, label, [&world, victim] { world.Crash(victim); });
    world.Schedule(at + down, label, [&world, victim] { world.Restart(victim); });
  }
  for (int i = 0; i < spec.partitions && names.size() > 1; i++) {
    std::string a = names[prng.Uniform(names.size())];
    std::string b = a;
    while (b == a) b = names[prng.Uniform(names.size())];
    bool two_way = prng.Chance(0.5);
    TimePoint at = random_time();
    Duration length = milliseconds(prng.Range(100, 3000));
    world.Schedule(at, label, [&world, a, b, two_way] { world.network().Partition(a, b, two_way); });
    world.Schedule(at + length, label, [&world, a, b] { world.network().Heal(a, b); });
  }
}

}  // namespace

SeedResult RunSeed(const ScenarioSpec& spec, uint64_t seed, const std::string& log_level) {
  SeedResult result;
  sim::World world(seed, spec.faults, log_level);
  std::unique_ptr<Workload> workload = MakeWorkload(spec);
  TimePoint start = world.Now();
  workload->Setup(world);
  ScheduleFaults(spec, world);
  bool within_limit = world.RunUntil(start + spec.duration);

  // Quiesce: stop traffic and faults, heal the network, then crash and restart every node one
  // last time so the check sees exactly what recovery makes of the disks.
  workload->StopTraffic();
  world.network().HealAll();
  within_limit = within_limit && world.RunFor(seconds(3));
  for (sim::SimNode* node : world.nodes()) world.Crash(node->name());
  for (sim::SimNode* node : world.nodes()) world.Restart(node->name());
  within_limit = within_limit && world.RunFor(seconds(3));

  result.failure = workload->Check();
  if (!within_limit) result.failure = "event limit reached (livelock?)";
  result.passed = result.failure.empty();
  result.stats = workload->Stats();
  result.trace_hash = world.trace_hash();
  result.events = world.events_run();
  result.simulated = world.Now() - start;
  return result;
}

}  // namespace tierkv::simtool
