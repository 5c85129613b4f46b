//! The Beckon gRPC contract. The `.proto` files under `proto/` are the source of truth; this
//! crate only compiles them.

/// `beckon.invite.v1`: jobs, candidates, invites, members and API keys.
pub mod invite {
    pub mod v1 {
        tonic::include_proto!("beckon.invite.v1");
    }
}

/// `beckon.notify.v1`: email delivery and team notifications.
pub mod notify {
    pub mod v1 {
        tonic::include_proto!("beckon.notify.v1");
    }
}

/// Encoded `FileDescriptorSet` of `beckon.invite.v1` (and what it imports), for invite-service's
/// gRPC server reflection.
pub const INVITE_FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/invite_descriptor.bin"));

/// Encoded `FileDescriptorSet` of `beckon.notify.v1` (and what it imports), for notify-service's
/// gRPC server reflection.
pub const NOTIFY_FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/notify_descriptor.bin"));
