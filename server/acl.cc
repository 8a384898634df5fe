// ACL users and permission checks (see acl.h). Rules follow Redis 7.0's ACLSetUser /
// ACLSetSelector, descriptions its ACLDescribeUser (the greedy category fit over the bitmap).
#include "server/acl.h"

#include <openssl/evp.h>

#include <algorithm>
#include <climits>

#include <fmt/core.h>

#include "core/assert.h"
#include "server/config_syntax.h"
#include "server/server.h"

namespace tierkv::server {
namespace {

constexpr std::string_view kSyntaxError = "Syntax error";
constexpr std::string_view kUnknownName = "Unknown command or category name in ACL";
constexpr std::string_view kAfterAllKeys =
    "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have "
    "any effect. Try 'resetkeys' to start with an empty list of patterns";
constexpr std::string_view kAfterAllChannels =
    "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not "
    "have any effect. Try 'resetchannels' to start with an empty list of channels";
constexpr std::string_view kNoSuchPassword =
    "The password you are trying to remove from the user does not exist";
constexpr std::string_view kBadHash =
    "The password hash must be exactly 64 characters and contain only lowercase hexadecimal "
    "characters";
constexpr std::string_view kFirstArgOfSub = "Allowing first-arg of a subcommand is not supported";

// Redis refuses spaces and NULs in user names and patterns (they would break ACL LIST's format).
bool HasSpaces(std::string_view text) {
  for (char c : text) {
    if (c == 0 || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') {
      return true;
    }
  }
  return false;
}

bool ValidHash(std::string_view hash) {
  if (hash.size() != 64) return false;
  return std::all_of(hash.begin(), hash.end(),
                     [](char c) { return (c >= 'a' && c <= 'f') || (c >= '0' && c <= '9'); });
}

uint64_t CategoryByName(std::string_view name) {
  for (const AclCategoryName& category : AclCategoryNames()) {
    if (EqualsIgnoreCase(category.name, name)) return category.bit;
  }
  return 0;
}

// Splits a selector's "(...)" body at spaces.
std::vector<std::string_view> SplitSpaces(std::string_view text) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ') i++;
    const size_t start = i;
    while (i < text.size() && text[i] != ' ') i++;
    if (i > start) words.push_back(text.substr(start, i - start));
  }
  return words;
}

// Constant-time comparison of two hashes of equal length (Redis's time_independent_strcmp).
bool SameHash(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  int diff = 0;
  for (size_t i = 0; i < a.size(); i++) diff |= a[i] ^ b[i];
  return diff == 0;
}

}  // namespace

std::string AclHashPassword(std::string_view text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  const int ok = EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha256(), nullptr);
  TK_ASSERT(ok == 1 && length == 32);
  constexpr std::string_view kHex = "0123456789abcdef";
  std::string hex;
  hex.reserve(64);
  for (unsigned int i = 0; i < length; i++) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 0xF];
  }
  return hex;
}

// --- AclCommandIndex ---

AclCommandIndex::AclCommandIndex(const CommandTable& table) {
  for (const CommandSpec& spec : table.all()) {
    const int id = static_cast<int>(entries_.size());
    entries_.push_back({&spec, nullptr, std::string(spec.name), spec.Categories()});
    subcommands_.emplace_back();
    ids_.emplace(&spec, id);
    for (const CommandSpec& sub : spec.subcommands) {
      const int sub_id = static_cast<int>(entries_.size());
      entries_.push_back({&sub, &spec, FullName(sub, &spec), sub.Categories()});
      subcommands_.emplace_back();
      subcommands_[static_cast<size_t>(id)].push_back(sub_id);
      ids_.emplace(&sub, sub_id);
    }
  }
}

int AclCommandIndex::IdOf(const CommandSpec& spec) const {
  auto it = ids_.find(&spec);
  TK_ASSERT_MSG(it != ids_.end(), "a command outside the table");
  return it->second;
}

int AclCommandIndex::Find(std::string_view name) const {
  const size_t bar = name.find('|');
  const std::string_view base = name.substr(0, bar);
  for (size_t id = 0; id < entries_.size(); id++) {
    if (entries_[id].parent != nullptr || !EqualsIgnoreCase(entries_[id].spec->name, base)) continue;
    if (bar == std::string_view::npos) return static_cast<int>(id);
    const std::string_view sub = name.substr(bar + 1);
    if (sub.find('|') != std::string_view::npos) return -1;
    for (int sub_id : subcommands_[id]) {
      if (EqualsIgnoreCase(entries_[static_cast<size_t>(sub_id)].spec->name, sub)) return sub_id;
    }
    return -1;
  }
  return -1;
}

// --- AclState: rules ---

void AclState::Init(std::shared_ptr<const AclCommandIndex> index, std::string_view requirepass) {
  index_ = std::move(index);
  AclUser user = NewUser("default");
  for (std::string_view op : {"+@all", "~*", "&*", "on", "nopass"}) {
    TK_ASSERT(!Apply(user, op).has_value());
  }
  users_.clear();
  Put(std::move(user));
  requirepass_.clear();
  Sync(requirepass);
}

void AclState::Sync(std::string_view requirepass) {
  if (requirepass == requirepass_) return;
  requirepass_ = std::string(requirepass);
  auto it = users_.find("default");
  TK_ASSERT(it != users_.end());
  TK_ASSERT(!Apply(it->second, "resetpass").has_value());
  const std::string op = requirepass_.empty() ? std::string("nopass") : ">" + requirepass_;
  TK_ASSERT(!Apply(it->second, op).has_value());
}

const AclUser* AclState::Find(std::string_view name) const {
  auto it = users_.find(name);
  return it == users_.end() ? nullptr : &it->second;
}

void AclState::Put(AclUser user) {
  std::string name = user.name;
  users_.insert_or_assign(std::move(name), std::move(user));
}

AclSelector AclState::NewSelector() const {
  AclSelector selector;
  selector.allowed.assign(index_->size(), false);
  return selector;  // acl-pubsub-default is resetchannels in 7.0
}

AclUser AclState::NewUser(std::string_view name) const {
  AclUser user;
  user.name = std::string(name);
  user.selectors.push_back(NewSelector());
  return user;
}

void AclState::SetBit(AclSelector& selector, int id, bool allow) const {
  selector.allowed[static_cast<size_t>(id)] = allow;
  if (!allow) selector.all_commands = false;
}

void AclState::ChangePerm(AclSelector& selector, int id, bool allow) const {
  SetBit(selector, id, allow);
  selector.first_args.erase(id);
  for (int sub : index_->SubcommandsOf(id)) SetBit(selector, sub, allow);
}

void AclState::SetCategory(AclSelector& selector, uint64_t category, bool allow) const {
  for (size_t id = 0; id < index_->size(); id++) {
    if ((index_->entry(static_cast<int>(id)).categories & category) != 0) {
      ChangePerm(selector, static_cast<int>(id), allow);
    }
  }
}

std::optional<std::string> AclState::ApplySelector(AclSelector& s, std::string_view op) const {
  if (EqualsIgnoreCase(op, "allkeys") || op == "~*") {
    s.all_keys = true;
    s.keys.clear();
  } else if (EqualsIgnoreCase(op, "resetkeys")) {
    s.all_keys = false;
    s.keys.clear();
  } else if (EqualsIgnoreCase(op, "allchannels") || op == "&*") {
    s.all_channels = true;
    s.channels.clear();
  } else if (EqualsIgnoreCase(op, "resetchannels")) {
    s.all_channels = false;
    s.channels.clear();
  } else if (EqualsIgnoreCase(op, "allcommands") || EqualsIgnoreCase(op, "+@all")) {
    s.allowed.assign(index_->size(), true);
    s.all_commands = s.future_commands = true;
    s.first_args.clear();
  } else if (EqualsIgnoreCase(op, "nocommands") || EqualsIgnoreCase(op, "-@all")) {
    s.allowed.assign(index_->size(), false);
    s.all_commands = s.future_commands = false;
    s.first_args.clear();
  } else if (op[0] == '~' || op[0] == '%') {
    if (s.all_keys) return std::string(kAfterAllKeys);
    int flags = 0;
    size_t offset = 1;
    if (op[0] == '%') {
      bool tilde = false;
      for (; offset < op.size(); offset++) {
        const char c = op[offset];
        if ((c == 'R' || c == 'r') && (flags & kAclKeyRead) == 0) {
          flags |= kAclKeyRead;
        } else if ((c == 'W' || c == 'w') && (flags & kAclKeyWrite) == 0) {
          flags |= kAclKeyWrite;
        } else if (c == '~') {
          offset++;
          tilde = true;
          break;
        } else {
          return std::string(kSyntaxError);
        }
      }
      if (flags == 0 || !tilde) return std::string(kSyntaxError);
    } else {
      flags = kAclKeyAll;
    }
    const std::string_view pattern = op.substr(offset);
    if (HasSpaces(pattern)) return std::string(kSyntaxError);
    auto it = std::find_if(s.keys.begin(), s.keys.end(),
                           [&](const AclKeyPattern& p) { return p.pattern == pattern; });
    if (it == s.keys.end()) {
      s.keys.push_back({std::string(pattern), flags});
    } else {
      it->flags |= flags;
    }
  } else if (op[0] == '&') {
    if (s.all_channels) return std::string(kAfterAllChannels);
    const std::string_view pattern = op.substr(1);
    if (HasSpaces(pattern)) return std::string(kSyntaxError);
    if (std::find(s.channels.begin(), s.channels.end(), pattern) == s.channels.end()) {
      s.channels.emplace_back(pattern);
    }
  } else if ((op[0] == '+' || op[0] == '-') && op.size() > 1 && op[1] == '@') {
    const uint64_t category = CategoryByName(op.substr(2));
    if (category == 0) return std::string(kUnknownName);
    SetCategory(s, category, op[0] == '+');
  } else if (op[0] == '-') {
    const int id = index_->Find(op.substr(1));
    if (id < 0) return std::string(kUnknownName);
    ChangePerm(s, id, false);
  } else if (op[0] == '+') {
    const std::string_view name = op.substr(1);
    const size_t bar = name.rfind('|');
    if (bar == std::string_view::npos) {
      const int id = index_->Find(name);
      if (id < 0) return std::string(kUnknownName);
      ChangePerm(s, id, true);
      return std::nullopt;
    }
    const int id = index_->Find(name.substr(0, bar));
    if (id < 0) return std::string(kUnknownName);
    if (index_->entry(id).parent != nullptr) return std::string(kFirstArgOfSub);
    const std::string_view first_arg = name.substr(bar + 1);
    if (first_arg.empty()) return std::string(kSyntaxError);
    if (!index_->SubcommandsOf(id).empty()) {
      const int sub = index_->Find(name);
      if (sub < 0) return std::string(kUnknownName);
      ChangePerm(s, sub, true);
      return std::nullopt;
    }
    // Redis's deprecated first-argument exception ("+select|0").
    std::vector<std::string>& allowed = s.first_args[id];
    if (std::none_of(allowed.begin(), allowed.end(),
                     [&](const std::string& a) { return EqualsIgnoreCase(a, first_arg); })) {
      allowed.emplace_back(first_arg);
    }
  } else {
    return std::string(kSyntaxError);
  }
  return std::nullopt;
}

std::optional<std::string> AclState::Apply(AclUser& user, std::string_view op) const {
  if (op.empty()) return std::nullopt;
  if (EqualsIgnoreCase(op, "on")) {
    user.enabled = true;
  } else if (EqualsIgnoreCase(op, "off")) {
    user.enabled = false;
  } else if (EqualsIgnoreCase(op, "skip-sanitize-payload")) {
    user.skip_sanitize_payload = true;
  } else if (EqualsIgnoreCase(op, "sanitize-payload")) {
    user.skip_sanitize_payload = false;
  } else if (EqualsIgnoreCase(op, "nopass")) {
    user.nopass = true;
    user.passwords.clear();
  } else if (EqualsIgnoreCase(op, "resetpass")) {
    user.nopass = false;
    user.passwords.clear();
  } else if (op[0] == '>' || op[0] == '#') {
    std::string hash = op[0] == '>' ? AclHashPassword(op.substr(1)) : std::string(op.substr(1));
    if (op[0] == '#' && !ValidHash(hash)) return std::string(kBadHash);
    if (std::find(user.passwords.begin(), user.passwords.end(), hash) == user.passwords.end()) {
      user.passwords.push_back(std::move(hash));
    }
    user.nopass = false;
  } else if (op[0] == '<' || op[0] == '!') {
    std::string hash = op[0] == '<' ? AclHashPassword(op.substr(1)) : std::string(op.substr(1));
    if (op[0] == '!' && !ValidHash(hash)) return std::string(kBadHash);
    auto it = std::find(user.passwords.begin(), user.passwords.end(), hash);
    if (it == user.passwords.end()) return std::string(kNoSuchPassword);
    user.passwords.erase(it);
  } else if (op.size() >= 2 && op.front() == '(' && op.back() == ')') {
    AclSelector selector = NewSelector();
    for (std::string_view inner : SplitSpaces(op.substr(1, op.size() - 2))) {
      if (auto failed = ApplySelector(selector, inner)) return failed;
    }
    user.selectors.push_back(std::move(selector));
  } else if (EqualsIgnoreCase(op, "clearselectors")) {
    user.selectors.resize(1);
  } else if (EqualsIgnoreCase(op, "reset")) {
    for (std::string_view step : {"resetpass", "resetkeys", "resetchannels", "off",
                                  "sanitize-payload", "clearselectors", "-@all"}) {
      TK_ASSERT(!Apply(user, step).has_value());
    }
  } else {
    return ApplySelector(user.selectors.front(), op);
  }
  return std::nullopt;
}

// --- authentication ---

bool AclState::CheckCredentials(std::string_view name, std::string_view password) const {
  const AclUser* user = Find(name);
  if (user == nullptr || !user->enabled) return false;
  if (user->nopass) return true;
  const std::string hash = AclHashPassword(password);
  bool match = false;
  for (const std::string& known : user->passwords) match = SameHash(hash, known) || match;
  return match;
}

bool AclState::DefaultNeedsNoAuth() const {
  const AclUser* user = Find("default");
  TK_ASSERT(user != nullptr);
  return user->nopass && user->enabled;
}

// --- permission checks ---

namespace {

// The access a command needs to its key at `ordinal` among its key positions (Redis's key-spec
// flags, approximated from the command flags: tierkv's table has no per-key flags). Readonly
// commands read; write commands write, and also read when they return what they find
// (Redis's ACCESS flag: INCR, GETDEL, LPOP...); STORE-style commands read their sources.
int KeyAccess(const CommandSpec& spec, const std::vector<std::string>& args, size_t ordinal) {
  if ((spec.flags & kCmdWrite) == 0) return kAclKeyRead;
  static constexpr std::string_view kReadWrite[] = {
      "getset", "getdel", "getex", "incr", "incrby", "decr", "decrby", "incrbyfloat", "lpop",
      "rpop", "spop", "zpopmin", "zpopmax", "bzpopmin", "bzpopmax", "blpop", "brpop", "lmpop",
      "blmpop", "zmpop", "bzmpop", "setbit", "bitfield", "move", "sort"};
  const std::string_view name = spec.name;
  if (std::find(std::begin(kReadWrite), std::end(kReadWrite), name) != std::end(kReadWrite)) {
    return kAclKeyAll;
  }
  if (name == "set") {  // SET ... GET reads the old value
    for (size_t i = 3; i < args.size(); i++) {
      if (EqualsIgnoreCase(args[i], "get")) return kAclKeyAll;
    }
    return kAclKeyWrite;
  }
  // Source first, destination second.
  if (name == "lmove" || name == "blmove" || name == "rpoplpush" || name == "brpoplpush" ||
      name == "smove" || name == "rename" || name == "renamenx") {
    return ordinal == 0 ? kAclKeyAll : kAclKeyWrite;
  }
  if (name == "copy") return ordinal == 0 ? kAclKeyRead : kAclKeyWrite;
  // Destination first, sources after.
  if (name.ends_with("store") || name == "bitop" || name == "pfmerge") {
    return ordinal == 0 ? kAclKeyWrite : kAclKeyRead;
  }
  return kAclKeyWrite;
}

struct ChannelArgs {
  size_t first = 0;  // 0: the command names no channels
  size_t last = 0;   // inclusive
  bool patterns = false;
};

ChannelArgs ChannelsOf(const CommandSpec& spec, size_t argc) {
  const std::string_view name = spec.name;
  if (name == "publish" || name == "spublish") return {1, 1, false};
  if (name == "subscribe" || name == "ssubscribe") return {1, argc - 1, false};
  if (name == "psubscribe") return {1, argc - 1, true};
  return {};
}

bool ChannelAllowed(const AclSelector& selector, std::string_view channel, bool is_pattern) {
  for (const std::string& pattern : selector.channels) {
    // A PSUBSCRIBE pattern must appear literally: a pattern cannot be matched by a pattern.
    if (is_pattern ? pattern == channel : GlobMatch(pattern, channel, false)) return true;
  }
  return false;
}

}  // namespace

AclDenied AclState::CheckSelector(const AclSelector& s, const CommandSpec& spec, int id,
                                  const std::vector<std::string>& args,
                                  std::span<const int> positions, size_t& denied_index) const {
  if (!s.all_commands && (spec.flags & kCmdNoAuth) == 0 && !s.allowed[static_cast<size_t>(id)]) {
    auto it = s.first_args.find(id);
    const size_t at = index_->entry(id).parent != nullptr ? 2 : 1;
    if (it == s.first_args.end() || args.size() <= at) return AclDenied::kCommand;
    const bool listed = std::any_of(it->second.begin(), it->second.end(),
                                    [&](const std::string& a) { return EqualsIgnoreCase(a, args[at]); });
    if (!listed) return AclDenied::kCommand;
  }
  if (!s.all_keys) {
    for (size_t i = 0; i < positions.size(); i++) {
      const auto position = static_cast<size_t>(positions[i]);
      const int need = KeyAccess(spec, args, i);
      const bool ok = std::any_of(s.keys.begin(), s.keys.end(), [&](const AclKeyPattern& p) {
        return (p.flags & need) == need && GlobMatch(p.pattern, args[position], false);
      });
      if (!ok) {
        denied_index = position;
        return AclDenied::kKey;
      }
    }
  }
  if (!s.all_channels) {
    const ChannelArgs channels = ChannelsOf(spec, args.size());
    for (size_t i = channels.first; channels.first != 0 && i <= channels.last && i < args.size(); i++) {
      if (!ChannelAllowed(s, args[i], channels.patterns)) {
        denied_index = i;
        return AclDenied::kChannel;
      }
    }
  }
  return AclDenied::kNone;
}

AclDenied AclState::Check(const AclUser& user, const CommandSpec& spec,
                          const std::vector<std::string>& args, std::span<const int> positions,
                          size_t& denied_index) const {
  const int id = index_->IdOf(spec);
  // One error to report: the command when no selector allows it, else the last key or channel
  // that none matched (Redis's choice).
  AclDenied relevant = AclDenied::kCommand;
  size_t last_index = 0;
  for (const AclSelector& selector : user.selectors) {
    size_t index = 0;
    const AclDenied result = CheckSelector(selector, spec, id, args, positions, index);
    if (result == AclDenied::kNone) return result;
    if (static_cast<int>(result) > static_cast<int>(relevant) ||
        (result == relevant && index > last_index)) {
      relevant = result;
      last_index = index;
    }
  }
  denied_index = last_index;
  return relevant;
}

// --- descriptions ---

std::vector<std::string_view> AclState::FlagNames(const AclUser& user) {
  std::vector<std::string_view> flags;
  flags.push_back(user.enabled ? "on" : "off");
  if (user.nopass) flags.push_back("nopass");
  flags.push_back(user.skip_sanitize_payload ? "skip-sanitize-payload" : "sanitize-payload");
  return flags;
}

std::string AclState::DescribeKeys(const AclSelector& s) {
  if (s.all_keys) return "~*";
  std::string text;
  for (const AclKeyPattern& pattern : s.keys) {
    if (!text.empty()) text += ' ';
    text += pattern.flags == kAclKeyAll ? "~" : pattern.flags == kAclKeyRead ? "%R~" : "%W~";
    text += pattern.pattern;
  }
  return text;
}

std::string AclState::DescribeChannels(const AclSelector& s) {
  if (s.all_channels) return "&*";
  std::string text;
  for (const std::string& channel : s.channels) {
    if (!text.empty()) text += ' ';
    text += '&' + channel;
  }
  return text;
}

std::string AclState::DescribeCommands(const AclSelector& selector) const {
  // Redis 7.0's ACLDescribeSelectorCommandRules: start from +@all or -@all, add the category
  // that fits the bitmap best while one fits better than not, then fix single commands; a
  // "fake" selector replays the rules so the result is checked against the bitmap.
  const bool additive = !selector.future_commands;
  std::string rules = additive ? "-@all " : "+@all ";
  AclSelector fake = NewSelector();
  TK_ASSERT(!ApplySelector(fake, additive ? "-@all" : "+@all").has_value());
  AclSelector temp = NewSelector();
  temp.allowed = selector.allowed;
  const auto categories = AclCategoryNames();
  std::vector<bool> applied(categories.size(), false);
  for (size_t round = 0; round < categories.size(); round++) {
    int best = -1;
    size_t min_diff = SIZE_MAX, max_same = 0;
    for (size_t j = 0; j < categories.size(); j++) {
      if (applied[j]) continue;
      size_t on = 0, off = 0;
      for (size_t id = 0; id < index_->size(); id++) {
        if ((index_->entry(static_cast<int>(id)).categories & categories[j].bit) == 0) continue;
        (temp.allowed[id] ? on : off)++;
      }
      const size_t diff = additive ? off : on, same = additive ? on : off;
      if (same > diff && (diff < min_diff || (diff == min_diff && same > max_same))) {
        best = static_cast<int>(j);
        min_diff = diff;
        max_same = same;
      }
    }
    if (best < 0) break;
    const AclCategoryName& category = categories[static_cast<size_t>(best)];
    SetCategory(fake, category.bit, additive);
    SetCategory(temp, category.bit, !additive);
    rules += std::string(additive ? "+@" : "-@") + std::string(category.name) + " ";
    applied[static_cast<size_t>(best)] = true;
  }
  for (size_t id = 0; id < index_->size(); id++) {
    const bool user_bit = selector.allowed[id];
    if (user_bit != fake.allowed[id]) {
      rules += (user_bit ? "+" : "-") + index_->entry(static_cast<int>(id)).full_name + " ";
      ChangePerm(fake, static_cast<int>(id), user_bit);
    }
    auto first = selector.first_args.find(static_cast<int>(id));
    if (!user_bit && first != selector.first_args.end()) {
      for (const std::string& arg : first->second) {
        rules += "+" + index_->entry(static_cast<int>(id)).full_name + "|" + arg + " ";
      }
    }
  }
  TK_ASSERT_MSG(fake.allowed == selector.allowed, "ACL description does not rebuild the bitmap");
  rules.pop_back();
  return rules;
}

std::string AclState::Describe(const AclUser& user) const {
  std::string text;
  for (std::string_view flag : FlagNames(user)) text += std::string(flag) + " ";
  for (const std::string& hash : user.passwords) text += "#" + hash + " ";
  for (size_t i = 0; i < user.selectors.size(); i++) {
    const AclSelector& s = user.selectors[i];
    std::string part;
    if (s.all_keys) {
      part += "~* ";
    } else {
      for (const AclKeyPattern& pattern : s.keys) {
        part += (pattern.flags == kAclKeyAll ? "~" : pattern.flags == kAclKeyRead ? "%R~" : "%W~") +
                pattern.pattern + " ";
      }
    }
    if (s.all_channels) {
      part += "&* ";
    } else {
      part += "resetchannels ";
      for (const std::string& channel : s.channels) part += "&" + channel + " ";
    }
    part += DescribeCommands(s);
    text += i == 0 ? part : " (" + part + ")";
  }
  return text;
}

// --- ACL LOG ---

void AclState::AddLog(AclLogEntry entry) {
  constexpr size_t kScan = 10;      // Redis looks this far back for a repeat
  constexpr size_t kMaxLen = 128;   // Redis's acllog-max-len default
  for (size_t i = 0; i < std::min(kScan, log_.size()); i++) {
    AclLogEntry& old = log_[i];
    if (old.reason != entry.reason || old.context != entry.context || old.object != entry.object ||
        old.username != entry.username) {
      continue;
    }
    old.count++;
    old.unix_ms = entry.unix_ms;
    old.client_info = std::move(entry.client_info);
    std::rotate(log_.begin(), log_.begin() + static_cast<std::ptrdiff_t>(i),
                log_.begin() + static_cast<std::ptrdiff_t>(i) + 1);
    return;
  }
  log_.insert(log_.begin(), std::move(entry));
  if (log_.size() > kMaxLen) log_.pop_back();
}

namespace {

// The client's CLIENT LIST line, as Redis's catClientInfoString (figures tierkv does not keep
// per client are 0, as CLIENT LIST shows them).
std::string ClientInfo(const ClientState& c, TimePoint now) {
  auto since = [now](TimePoint t) { return std::chrono::duration_cast<seconds>(now - t).count(); };
  std::string flags;
  if (c.in_multi) flags += 'x';
  if (c.subscriptions() > 0) flags += 'P';
  if (flags.empty()) flags = "N";
  return fmt::format(
      "id={} addr={} laddr={} fd=-1 name={} age={} idle={} flags={} db={} sub={} psub={} ssub=0 "
      "multi={} qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=0 "
      "tot-mem=0 events=r cmd={} user={} redir=-1 resp={}",
      c.id, c.peer, c.local_address, c.name, since(c.created), since(c.last_interaction), flags,
      c.db, c.channels.size(), c.patterns.size(),
      c.in_multi ? static_cast<int64_t>(c.queued.size()) : -1,
      c.last_command.empty() ? "NULL" : c.last_command, c.user, c.protocol);
}

void Log(ExecutorState& state, Env& env, const ClientState& client, std::string_view reason,
         std::string object, std::string_view username) {
  AclLogEntry entry;
  entry.reason = reason;
  entry.context = client.in_multi ? "multi" : "toplevel";
  entry.object = std::move(object);
  entry.username = std::string(username);
  entry.unix_ms = env.clock().UnixMicros() / 1000;
  entry.client_info = ClientInfo(client, env.Now());
  state.acl.AddLog(std::move(entry));
}

}  // namespace

void AclLogAuthFailure(ExecutorState& state, Env& env, const ClientState& client,
                       std::string_view command, std::string_view username) {
  Log(state, env, client, "auth", std::string(command), username);
}

// --- the dispatcher's hooks ---

AclState& AclOf(ExecutorState& state) {
  state.acl.Sync(state.config.String("requirepass"));
  return state.acl;
}

namespace {

// The check both hooks make; logs a denial (ACL LOG). `denied_name` is what was denied.
AclDenied CheckClient(ExecutorState& state, Env& env, const ClientState& client,
                      const CommandSpec& spec, const CommandSpec* parent,
                      const std::vector<std::string>& args) {
  // No AclOf(): permissions do not depend on requirepass, and this runs on every command.
  const AclState& acl = state.acl;
  const AclUser* user = acl.Find(client.user);
  if (user == nullptr) return AclDenied::kCommand;  // deleted meanwhile: on its way out
  const AclSelector& root = user->selectors.front();
  if (user->selectors.size() == 1 && root.all_commands && root.all_keys && root.all_channels) {
    return AclDenied::kNone;  // the common case (the default user): nothing to look at
  }
  KeyPositionList positions;
  std::string keys_error;
  if (!Server::KeysOf(spec, args, positions, keys_error)) positions.clear();  // reported later
  size_t denied_index = 0;
  const AclDenied denied = acl.Check(*user, spec, args, {positions.data(), positions.size()}, denied_index);
  switch (denied) {
    case AclDenied::kNone: break;
    case AclDenied::kCommand: Log(state, env, client, "command", FullName(spec, parent), client.user); break;
    case AclDenied::kKey: Log(state, env, client, "key", args[denied_index], client.user); break;
    case AclDenied::kChannel: Log(state, env, client, "channel", args[denied_index], client.user); break;
  }
  return denied;
}

}  // namespace

std::optional<std::string> AclCheckClient(ExecutorState& state, Env& env, const ClientState& client,
                                          const CommandSpec& spec, const CommandSpec* parent,
                                          const std::vector<std::string>& args) {
  switch (CheckClient(state, env, client, spec, parent, args)) {
    case AclDenied::kNone: return std::nullopt;
    case AclDenied::kCommand:
      return "NOPERM this user has no permissions to run the '" + FullName(spec, parent) + "' command";
    case AclDenied::kKey:
      return std::string("NOPERM this user has no permissions to access one of the keys used as arguments");
    case AclDenied::kChannel:
      return std::string(
          "NOPERM this user has no permissions to access one of the channels used as arguments");
  }
  return std::nullopt;
}

std::optional<std::string> AclCheckAtExec(ExecutorState& state, Env& env, const ClientState& client,
                                          const CommandSpec& spec, const CommandSpec* parent,
                                          const std::vector<std::string>& args) {
  std::string_view reason;
  switch (CheckClient(state, env, client, spec, parent, args)) {
    case AclDenied::kNone: return std::nullopt;
    case AclDenied::kCommand: reason = "no permission to execute the command or subcommand"; break;
    case AclDenied::kKey: reason = "no permission to touch the specified keys"; break;
    case AclDenied::kChannel: reason = "no permission to access one of the channels used as arguments"; break;
  }
  return "NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC "
         "call. This command is no longer allowed for the following reason: " +
         std::string(reason);
}

}  // namespace tierkv::server
