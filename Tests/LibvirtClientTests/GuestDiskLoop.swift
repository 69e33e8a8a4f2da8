/// A 512-byte boot sector that makes a TCG domain with no OS do real disk I/O through its
/// virtual device, forever: the BIOS (SeaBIOS) loads it from `vda` and jumps to it, and it
/// alternates INT 13h writes and reads of 8 sectors (4 KiB) at LBA 1..8.
///
/// Host-side writes (HMP `qemu-io`) go straight to the block backend and are not in the
/// device's accounting, so they leave the block stats at zero; only guest requests like these
/// move them. Hand-assembled (16-bit real mode, loaded at 0x7c00):
///
///     xor ax,ax ; mov es,ax ; mov ds,ax
///     loop: mov ax,0x0308 ; mov cx,0x0002 ; mov dx,0x0080 ; mov bx,0x7c00 ; int 0x13   ; write 8 sectors from 0:7c00 to C0 H0 S2
///           mov ax,0x0208 ; mov cx,0x0002 ; mov dx,0x0080 ; mov bx,0x8000 ; int 0x13   ; read them back to 0:8000
///           jmp loop
enum GuestDiskLoop {
    static let bytesPerRequest: UInt64 = 8 * 512

    static let bootSector: [UInt8] = {
        let code: [UInt8] = [
            0x31, 0xC0, 0x8E, 0xC0, 0x8E, 0xD8,
            0xB8, 0x08, 0x03, 0xB9, 0x02, 0x00, 0xBA, 0x80, 0x00, 0xBB, 0x00, 0x7C, 0xCD, 0x13,
            0xB8, 0x08, 0x02, 0xB9, 0x02, 0x00, 0xBA, 0x80, 0x00, 0xBB, 0x00, 0x80, 0xCD, 0x13,
            0xEB, 0xE2,   // jmp -30: back to offset 6
        ]
        return code + [UInt8](repeating: 0, count: 510 - code.count) + [0x55, 0xAA]
    }()
}
