"use strict";

// What the Go side (chromium_test.go) needs of every test page, served by serveLocalhost at
// /testpage.js and loaded right after the page's #log element: log(msg, cls) adds a timestamped
// line to #log (window.pageLog for the Go side), and window.pageInfo() is what the page reports
// about itself, with the fields of window.pageDetails, if the page sets it, added.

const logEl = document.getElementById("log");

function log(msg, cls) {
  const line = document.createElement("div");
  line.textContent = new Date().toISOString() + " " + msg;
  if (cls) line.className = cls;
  logEl.appendChild(line);
}

function pageInfo() {
  return Object.assign({ origin: location.origin, secure: window.isSecureContext, userAgent: navigator.userAgent },
    window.pageDetails);
}

window.pageInfo = pageInfo;
window.pageLog = log;
