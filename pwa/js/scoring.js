// The official scoring formula (product.md "Scoring"), the same as backend/checklists/scoring.py,
// for the preliminary score (预评分) shown while the inspector works. The server's score is the
// official one; tests/pwa/test_scoring_vectors.py runs every shared vector through this file.
//
// Exact arithmetic: fractions of BigInts, rounded half up to one decimal once, at the end.
// Floats would turn an exact 63.75 into 63.74999… and give another grade at a band boundary.
// Numbers written as decimals in the checklist (2.5) count at their written value.

// --- exact fractions -------------------------------------------------------------------------

const gcd = (a, b) => {
  a = a < 0n ? -a : a;
  b = b < 0n ? -b : b;
  while (b) [a, b] = [b, a % b];
  return a;
};

class Frac {
  constructor(n, d = 1n) {
    if (d === 0n) throw new RangeError("division by zero");
    if (d < 0n) { n = -n; d = -d; }
    const g = gcd(n, d) || 1n;
    this.n = n / g;
    this.d = d / g;
  }
  static of(value) {
    return value instanceof Frac ? value : exact(value);
  }
  add(o) { o = Frac.of(o); return new Frac(this.n * o.d + o.n * this.d, this.d * o.d); }
  sub(o) { o = Frac.of(o); return new Frac(this.n * o.d - o.n * this.d, this.d * o.d); }
  mul(o) { o = Frac.of(o); return new Frac(this.n * o.n, this.d * o.d); }
  div(o) { o = Frac.of(o); return new Frac(this.n * o.d, this.d * o.n); }
  cmp(o) { o = Frac.of(o); const l = this.n * o.d, r = o.n * this.d; return l < r ? -1 : l > r ? 1 : 0; }
  isPositive() { return this.n > 0n; }
  toString() { return this.d === 1n ? `${this.n}` : `${this.n}/${this.d}`; }
}

const ZERO = new Frac(0n);

/** The value a number was written as: 2.3 is 23/10 (String() gives the shortest round trip). */
function exact(number) {
  if (typeof number === "bigint") return new Frac(number);
  const text = String(number).toLowerCase();
  const match = /^(-?)(\d*)(?:\.(\d*))?(?:e([+-]?\d+))?$/.exec(text);
  if (!match) throw new RangeError(`not a finite number: ${text}`);
  const [, sign, whole, fraction = "", exponent = "0"] = match;
  let n = BigInt((whole || "0") + fraction);
  let d = 10n ** BigInt(fraction.length);
  const e = Number(exponent);
  if (e >= 0) n *= 10n ** BigInt(e);
  else d *= 10n ** BigInt(-e);
  return new Frac(sign ? -n : n, d);
}

/** Integer units of a value rounded half up (away from zero) to `places` decimals. */
function roundUnits(value, places) {
  const scale = 10n ** BigInt(places);
  const negative = value.n < 0n;
  const n = negative ? -value.n : value.n;
  const units = (2n * n * scale + value.d) / (2n * value.d); // floor(|v|·10^p + 1/2)
  return negative ? -units : units;
}

/** A value rounded half up to `places` decimals, as text ("84.3", "100.0"), like Python's Decimal. */
function roundedText(value, places = 1) {
  const units = roundUnits(value, places);
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(places + 1, "0");
  const text = places ? `${digits.slice(0, -places)}.${digits.slice(-places)}` : digits;
  return negative ? `-${text}` : text;
}

/** A number for display: rounded half up to 4 decimals (as the server's to_dict()). */
function display(value) {
  return value === null ? null : Number(roundUnits(value, 4)) / 10000;
}

function numberText(value) {
  return String(value); // 90 → "90", 59.5 → "59.5" (Python's _number)
}

// --- checking the answers --------------------------------------------------------------------

/** The answers cannot be scored; `problems` lists every reason, each naming its item. */
export class ScoringInputError extends Error {
  constructor(problems) {
    super(problems.join("\n"));
    this.name = "ScoringInputError";
    this.problems = problems;
  }
}

const RESULTS = new Set(["pass", "fail", "na"]);
const COUNTS = ["occurrences", "sampled", "failed", "population"];
const ALLOWED = { pass_fail: [], deduct: ["occurrences"], sample: ["sampled", "failed", "population"] };

function given(value) {
  return value !== null && value !== undefined;
}

function allItems(checklist) {
  return checklist.sections.flatMap((section) => section.items.map((item) => [section, item]));
}

function typeProblems(name, answer) {
  // The server's model refuses these before scoring; here they are named like the rest.
  const problems = [];
  if (!RESULTS.has(answer.result)) problems.push(`${name}: result must be pass, fail or na, got ${JSON.stringify(answer.result)}`);
  for (const key of COUNTS) {
    if (given(answer[key]) && !Number.isInteger(answer[key])) {
      problems.push(`${name}: ${key} must be a whole number, got ${JSON.stringify(answer[key])}`);
    }
  }
  return problems;
}

function countProblems(item, answer) {
  const name = `item '${item.id}'`;
  const typed = typeProblems(name, answer);
  if (typed.length) return typed;
  const present = COUNTS.filter((key) => given(answer[key]));
  const problems = present
    .filter((key) => answer[key] < 0)
    .map((key) => `${name}: ${key} must not be negative, got ${answer[key]}`);
  for (const key of present) {
    if (!ALLOWED[item.mode].includes(key)) problems.push(`${name}: ${key} is not used by a ${item.mode} item`);
  }
  if (item.mode === "deduct") problems.push(...deductProblems(name, answer));
  else if (item.mode === "sample") problems.push(...sampleProblems(name, answer, given(item.min_sampled) ? item.min_sampled : null));
  return problems;
}

function deductProblems(name, answer) {
  if (!given(answer.occurrences)) return [];
  if (answer.result !== "fail") {
    return [`${name}: occurrences given on a ${answer.result} answer; only a fail has occurrences`];
  }
  if (answer.occurrences === 0) {
    return [`${name}: occurrences on a fail must be at least 1 (leave it out to count one occurrence)`];
  }
  return [];
}

function sampleProblems(name, answer, minSampled) {
  const { sampled, failed, population } = answer;
  if (answer.result === "na") {
    return [["sampled", sampled], ["failed", failed], ["population", population]]
      .filter(([, value]) => given(value))
      .map(([key]) => `${name}: ${key} given on an na answer; a not applicable item takes no counts`);
  }
  const missing = [["sampled", sampled], ["failed", failed]].filter(([, v]) => !given(v)).map(([k]) => k);
  if (missing.length) {
    return [`${name}: a sample item answered ${answer.result} needs ${missing.join(" and ")} (records checked, records failing)`];
  }
  if (sampled < 0 || failed < 0) return []; // already reported as negative
  if (sampled === 0) return [`${name}: sampled must be at least 1 (no record checked means not applicable)`];
  if (failed > sampled) return [`${name}: failed (${failed}) cannot exceed sampled (${sampled})`];
  // A sample below the item's minimum is valid only when it covers every record there is.
  const hasPopulation = given(population);
  if (hasPopulation && population < 0) return []; // already reported as negative
  if (hasPopulation && sampled > population) {
    return [`${name}: sampled (${sampled}) cannot exceed population (${population})`];
  }
  if (minSampled !== null && sampled < minSampled) {
    if (!hasPopulation) {
      return [`${name}: sampled (${sampled}) is below the minimum sample of ${minSampled}; check more records, or give population when fewer exist`];
    }
    if (sampled !== population) {
      return [`${name}: ${sampled} of ${population} records checked, below the minimum sample of ${minSampled}; a smaller sample must check every record (sampled = population)`];
    }
  }
  if (answer.result === "pass" && failed > 0) {
    return [`${name}: answered pass but ${failed} of ${sampled} sampled records failed; the result must be fail`];
  }
  if (answer.result === "fail" && failed === 0) {
    return [`${name}: answered fail but no sampled record failed (failed = 0); the result must be pass`];
  }
  return [];
}

/**
 * Every problem with a set of answers, each message naming its item id (as the server's
 * validate_answers).
 * @param {object} checklist the checklist content (sections, items, grade_bands).
 * @param {Array<{item: string, result: string, occurrences?: number, sampled?: number, failed?: number}>} answers
 * @param {boolean} requireComplete also report unanswered items.
 * @returns {string[]}
 */
export function validateAnswers(checklist, answers, requireComplete) {
  const items = new Map(allItems(checklist).map(([, item]) => [item.id, item]));
  const problems = [];
  const times = new Map();
  for (const answer of answers) {
    const item = items.get(answer.item);
    if (!item) {
      problems.push(`item '${answer.item}': no such item in checklist '${checklist.id}' version ${checklist.version}`);
      continue;
    }
    times.set(answer.item, (times.get(answer.item) || 0) + 1);
    if (times.get(answer.item) === 2) {
      problems.push(`item '${answer.item}': answered more than once; give one answer per item`);
    }
    problems.push(...countProblems(item, answer));
  }
  if (requireComplete) {
    for (const [section, item] of allItems(checklist)) {
      if (!times.has(item.id)) {
        problems.push(`item '${item.id}' (section '${section.id}'): no answer; an incomplete inspection cannot be scored`);
      }
    }
  }
  return problems;
}

// --- the formula ------------------------------------------------------------------------------

function earnedPoints(item, answer, points) {
  if (answer.result === "pass") return points;
  if (item.mode === "pass_fail") return ZERO;
  if (item.mode === "deduct") {
    const occurrences = given(answer.occurrences) ? answer.occurrences : 1;
    const left = points.sub(exact(item.per_occurrence).mul(BigInt(occurrences)));
    return left.cmp(ZERO) < 0 ? ZERO : left;
  }
  return points.mul(new Frac(1n).sub(new Frac(BigInt(answer.failed), BigInt(answer.sampled))));
}

function itemScore(item, answer) {
  const points = exact(item.points);
  const critical = item.critical === true;
  if (!answer) return { id: item.id, mode: item.mode, result: null, critical, points, earned: ZERO, possible: ZERO };
  if (answer.result === "na") {
    return { id: item.id, mode: item.mode, result: "na", critical, points, earned: ZERO, possible: ZERO };
  }
  return { id: item.id, mode: item.mode, result: answer.result, critical, points,
    earned: earnedPoints(item, answer, points), possible: points };
}

function grade(bands, totalExact, total, critical) {
  if (totalExact === null) {
    return [null, "所有检查项均为不适用，没有可计分的项目，不评定得分和等级"];
  }
  const lowest = bands[bands.length - 1];
  if (critical.length) {
    const failures = critical.map((item) => `「${item.text}」(${item.id})`).join("；");
    return [lowest.grade, `否决项不符合：${failures}，等级定为「${lowest.grade}」（得分 ${total}）`];
  }
  const reached = exact(total);
  for (let index = 0; index < bands.length; index += 1) {
    const band = bands[index];
    if (reached.cmp(exact(band.min)) >= 0) {
      if (band === lowest && index > 0) {
        const above = bands[index - 1];
        return [band.grade, `得分 ${total}，未达到「${above.grade}」(≥${numberText(above.min)})，等级为「${band.grade}」`];
      }
      return [band.grade, `得分 ${total}，达到「${band.grade}」(≥${numberText(band.min)})`];
    }
  }
  return [lowest.grade, `得分 ${total}，等级为「${lowest.grade}」`];
}

/**
 * Whether an answer is a 否决项 failure: a failed `critical` item, or a failed sample item whose
 * failing share failed/sampled reaches its `critical_share` (as the server's is_critical_failure).
 */
export function isCriticalFailure(item, answer) {
  if (!answer || answer.result !== "fail") return false;
  if (item.critical === true) return true;
  if (!given(item.critical_share) || !answer.sampled || !given(answer.failed)) return false;
  return new Frac(BigInt(answer.failed), BigInt(answer.sampled)).cmp(exact(item.critical_share)) >= 0;
}

function compute(checklist, byItem) {
  const sections = checklist.sections.map((section) => {
    const items = section.items.map((item) => itemScore(item, byItem.get(item.id)));
    const earned = items.reduce((sum, i) => sum.add(i.earned), ZERO);
    const possible = items.reduce((sum, i) => sum.add(i.possible), ZERO);
    const counted = possible.isPositive();
    return { section, items, weight: exact(section.weight), earned, possible, counted,
      ratio: counted ? earned.div(possible) : null };
  });
  let weighted = ZERO;
  let weights = ZERO;
  for (const s of sections) {
    if (s.counted) { weighted = weighted.add(s.weight.mul(s.ratio)); weights = weights.add(s.weight); }
  }
  const totalExact = weights.isPositive() ? new Frac(100n).mul(weighted).div(weights) : null;
  const total = totalExact === null ? null : roundedText(totalExact, 1);
  const answeredItems = allItems(checklist).map(([, item]) => [item, byItem.get(item.id)]).filter(([, a]) => a);
  const failed = answeredItems.filter(([, a]) => a.result === "fail").map(([item]) => item.id);
  const critical = answeredItems.filter(([item, a]) => isCriticalFailure(item, a)).map(([item]) => item);
  const [gradeName, reason] = grade(checklist.grade_bands, totalExact, total, critical);
  return {
    checklist: { id: checklist.id, version: checklist.version },
    total: total === null ? null : Number(total),
    total_exact: totalExact === null ? null : totalExact.toString(),
    grade: gradeName,
    grade_reason: reason,
    critical_failures: critical.map((item) => item.id),
    failed_items: failed,
    sections: sections.map((s) => ({
      id: s.section.id,
      title: s.section.title,
      weight: display(s.weight),
      counted: s.counted,
      earned: display(s.earned),
      possible: display(s.possible),
      ratio: display(s.ratio),
      contribution: s.counted ? display(new Frac(100n).mul(s.weight).mul(s.ratio).div(weights)) : null,
      // Exact values as fraction text ("337/4"), for tests and for anyone re-adding them up.
      earned_exact: s.earned.toString(),
      possible_exact: s.possible.toString(),
      ratio_exact: s.ratio === null ? null : s.ratio.toString(),
      items: s.items.map((i) => ({
        id: i.id, mode: i.mode, result: i.result, critical: i.critical,
        points: display(i.points), earned: display(i.earned), possible: display(i.possible),
      })),
    })),
  };
}

/**
 * The official score of a complete set of answers, in the shape of the server's
 * ScoreResult.to_dict() (plus `earned_exact`/`possible_exact`/`ratio_exact` per section).
 * @param {object} checklist the checklist content (as in the bundle's `checklists[].content`).
 * @param {Array<object>} answers one {item, result, occurrences?, sampled?, failed?} per item.
 * @returns {{total: number|null, total_exact: string|null, grade: string|null, grade_reason: string,
 *   critical_failures: string[], failed_items: string[], sections: object[]}}
 * @throws {ScoringInputError} listing every problem (each naming its item) for invalid or
 *   incomplete answers.
 */
export function score(checklist, answers) {
  const problems = validateAnswers(checklist, answers, true);
  if (problems.length) throw new ScoringInputError(problems);
  return compute(checklist, new Map(answers.map((a) => [a.item, a])));
}

/**
 * The running 预评分 while the form is being filled in: only answered, valid items count;
 * unanswered ones are not yet counted (neither earned nor possible). Never throws on answers.
 * @param {object} checklist the checklist content.
 * @param {Array<object>} answers the answers so far (findings of the inspection).
 * @returns {object} the shape of score() plus {answered, total_items, complete, problems}:
 *   `problems` names the answers left out because they don't fit their item yet.
 */
export function preliminaryScore(checklist, answers) {
  const items = new Map(allItems(checklist).map(([, item]) => [item.id, item]));
  const byItem = new Map();
  const problems = [];
  for (const answer of answers) {
    const item = items.get(answer.item);
    if (!item) continue; // not of this checklist: nothing to count
    const own = countProblems(item, answer);
    if (own.length) problems.push(...own);
    else byItem.set(answer.item, answer);
  }
  const result = compute(checklist, byItem);
  return { ...result, answered: byItem.size, total_items: items.size,
    complete: byItem.size === items.size && problems.length === 0, problems };
}
