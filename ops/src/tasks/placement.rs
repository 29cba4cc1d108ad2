//! Where `outpost-ops` may ask ECS about a dispatch's task, and why not when it may not.
//!
//! `DescribeTasks` answers for one cluster of the caller's own region and account: a task
//! of another region or account asked here is answered `MISSING` although it may run, so
//! it is never asked, and is shown unknown with why. The stack's own placement
//! ([`Watched::place`]) decides, with one difference: the tool only reads, so a task of
//! another cluster of the same region and account is asked in its own cluster, where ECS
//! answers truly for it (the reconciler, which writes, leaves such a task alone).

use dispatch::task_arn::{Placement, TaskArn, Watched};

/// Where a task stands for `outpost-ops`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Place<'a> {
    /// Ask ECS about it in this cluster (a name, as `DescribeTasks` takes it); `outside`
    /// says why the stack does not watch that cluster, when it does not.
    Ask {
        cluster: &'a str,
        outside: Option<String>,
    },
    /// Not asked: why not, for the person reading.
    Unknown(String),
}

/// Why nothing is asked when the stack does not say where it runs.
pub const NOT_PLACED: &str = "the stack's ID does not say its region and account, \
     and ECS would answer MISSING for a task of another one: not asked";

/// Where `task_arn` stands, against the clusters the stack watches (`None` when the
/// stack does not say). An old-format ARN (no cluster) means the one cluster watched, as
/// it does for the stack, and cannot be placed when every cluster is watched. Pure.
pub fn place<'a>(watched: Option<&'a Watched>, task_arn: &'a str) -> Place<'a> {
    let Some(watched) = watched else {
        return Place::Unknown(NOT_PLACED.to_owned());
    };
    match watched.place(task_arn) {
        Placement::Ask { cluster } => Place::Ask {
            cluster,
            outside: None,
        },
        Placement::Unreadable(why) => Place::Unknown(why),
        Placement::Outside(why) => match TaskArn::parse(task_arn) {
            // Outside the stack by its cluster only: asked there all the same.
            Some(task) if here(&task, watched) => match task.cluster {
                Some(cluster) => Place::Ask {
                    cluster,
                    outside: Some(why),
                },
                // Never so: an old-format ARN is placed in the one cluster watched.
                None => Place::Unknown(why),
            },
            _ => Place::Unknown(format!(
                "{why}: ECS is asked only in the stack's own region and account"
            )),
        },
    }
}

/// Whether `task` is of the stack's partition, region and account (whatever its cluster).
fn here(task: &TaskArn<'_>, watched: &Watched) -> bool {
    task.partition == watched.partition
        && task.region == watched.region
        && task.account == watched.account
}

#[cfg(test)]
mod tests {
    use super::*;

    fn watched(arn: &str) -> Watched {
        Watched::parse(arn).unwrap()
    }

    const ONE: &str = "arn:aws:ecs:us-east-1:123456789012:cluster/outpost-dev";
    const EVERY: &str = "arn:aws:ecs:us-east-1:123456789012:cluster/*";

    fn unknown(place: Place<'_>) -> String {
        match place {
            Place::Unknown(why) => why,
            ask => panic!("asked: {ask:?}"),
        }
    }

    #[test]
    fn a_task_of_this_region_and_account_is_asked_in_its_own_cluster() {
        let one = watched(ONE);
        let ours = "arn:aws:ecs:us-east-1:123456789012:task/outpost-dev/abc";
        let other = "arn:aws:ecs:us-east-1:123456789012:task/gone/abc";
        let ask = |cluster, outside: Option<&str>| Place::Ask {
            cluster,
            outside: outside.map(str::to_owned),
        };
        assert_eq!(place(Some(&one), ours), ask("outpost-dev", None));
        let outside = "its cluster is gone, the stack watches outpost-dev";
        assert_eq!(place(Some(&one), other), ask("gone", Some(outside)));
        assert_eq!(place(Some(&watched(EVERY)), other), ask("gone", None));
    }

    #[test]
    fn a_task_of_another_region_account_or_partition_is_unknown_and_says_why() {
        let one = watched(ONE);
        for (arn, differs) in [
            (
                "arn:aws:ecs:eu-west-1:123456789012:task/outpost-dev/a",
                "region is eu-west-1",
            ),
            (
                "arn:aws:ecs:us-east-1:999999999999:task/outpost-dev/a",
                "account is 999999999999",
            ),
            (
                "arn:aws-cn:ecs:us-east-1:123456789012:task/outpost-dev/a",
                "partition is aws-cn",
            ),
            (
                "arn:aws:ecs:eu-west-1:123456789012:task/a",
                "region is eu-west-1",
            ),
        ] {
            let why = unknown(place(Some(&one), arn));
            assert!(why.contains(differs), "{arn}: {why}");
            assert!(
                why.ends_with("only in the stack's own region and account"),
                "{why}"
            );
        }
    }

    #[test]
    fn an_odd_arn_is_unknown_and_an_old_format_one_means_the_cluster_watched() {
        let (one, every) = (watched(ONE), watched(EVERY));
        let why = unknown(place(Some(&one), "task-0042"));
        assert_eq!(why, r#""task-0042" is not an ECS task ARN"#);
        let old = "arn:aws:ecs:us-east-1:123456789012:task/abc";
        let watched_one = Place::Ask {
            cluster: "outpost-dev",
            outside: None,
        };
        assert_eq!(place(Some(&one), old), watched_one);
        let why = unknown(place(Some(&every), old));
        assert!(
            why.contains("old-format task ARN names no cluster"),
            "{why}"
        );
        let ours = "arn:aws:ecs:us-east-1:123456789012:task/outpost-dev/abc";
        assert_eq!(unknown(place(None, ours)), NOT_PLACED);
    }
}
