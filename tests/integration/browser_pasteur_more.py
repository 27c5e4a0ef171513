#!/usr/bin/env python3
"""Pasteur's page in headless Chromium, the more part: see browser_pasteur.py."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from browser_pasteur import run  # noqa: E402

run("more")
