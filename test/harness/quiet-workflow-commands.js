// Jest setup (every project): code under test that runs in the test process (the probes, the trust helpers) calls
// @actions/core, whose workflow commands go to stdout: `::add-mask::<value>` for every token and key it registers,
// `::save-state::`. On a runner those lines are consumed; in the test log they would print the very values they mask.
// Tests that assert on them run the action as a child process and read its stdout, which this does not touch.
const write = process.stdout.write
/** @param {unknown[]} args */
const quiet = (...args) => (String(args[0]).startsWith('::') ? true : Reflect.apply(write, process.stdout, args))
process.stdout.write = /** @type {typeof process.stdout.write} */ (/** @type {unknown} */ (quiet))
