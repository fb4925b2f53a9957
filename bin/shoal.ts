#!/usr/bin/env node
// shoal: docker's verbs and flags over shoald's Engine API. All logic lives in cli/.
import { runCli } from '../cli';

runCli(process.argv.slice(2));
