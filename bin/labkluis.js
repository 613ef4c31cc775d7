#!/usr/bin/env node
// The installed CLI runs the compiled code (npm install builds it through the prepare script).
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv);
