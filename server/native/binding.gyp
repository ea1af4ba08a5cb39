{
  "targets": [
    {
      "target_name": "fs_at",
      "sources": ["src/fs-at.c"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ],
  "conditions": [
    ["'<!(node has-seccomp.mjs)'=='1'", {
      "targets": [
        {
          "target_name": "sandbox-enter",
          "type": "executable",
          "sources": ["src/sandbox-enter.c", "src/seccomp-policy.c"],
          "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-O2"],
          "libraries": ["-lseccomp"]
        }
      ]
    }]
  ]
}
