// ncc entry point. It is CommonJS so that ncc emits a CommonJS bundle (an ESM entry gives index.mjs).
require('./main.js').run()
