/* TEST-ONLY stand-in for Windows' bcryptprimitives.dll, for Wine 8.0 (Debian 12).
 *
 * Rust's std on x86_64-pc-windows-gnu imports ProcessPrng from bcryptprimitives.dll,
 * which every Windows 10/11 has and Wine 8.0 lacks: without this DLL every Keyport
 * program exits at once under Wine (code 53). scripts/windows.sh builds it with mingw
 * into the test WINEPREFIX only; it is never shipped, never in the installer, and a real
 * Windows uses its own DLL. It passes the call to BCryptGenRandom (the system RNG). */
#include <windows.h>
#include <bcrypt.h>

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG chunk = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (BCryptGenRandom(NULL, data, chunk, BCRYPT_USE_SYSTEM_PREFERRED_RNG) != 0)
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
