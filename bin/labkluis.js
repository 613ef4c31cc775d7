#!/usr/bin/env node
// The installed CLI runs the compiled code (npm install builds it through the prepare script).
import '../dist/cli/run.js';
