/* fcntl.h - open flags (Linux values) for code that names them; guests have no files. */
#ifndef UWC_FCNTL_H
#define UWC_FCNTL_H
#define O_RDONLY 00
#define O_WRONLY 01
#define O_RDWR 02
#define O_CREAT 0100
#define O_EXCL 0200
#define O_TRUNC 01000
#define O_APPEND 02000
#define O_NONBLOCK 04000
#define O_CLOEXEC 02000000
#endif
