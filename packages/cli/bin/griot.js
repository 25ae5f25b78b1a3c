#!/usr/bin/env node
// The griot command: runs the TypeScript sources through tsx's require hook.
require('tsx/cjs');
require('../src/main.ts');
