//! ECS task and cluster ARNs read whole, and which tasks a stack may ask ECS about.
//!
//! A task ARN is `arn:PARTITION:ecs:REGION:ACCOUNT:task/CLUSTER/ID`, or in the old format
//! `arn:PARTITION:ecs:REGION:ACCOUNT:task/ID`, which names no cluster. `DescribeTasks`
//! answers for one cluster of the caller's own region and account: a task of another
//! region asked of this one is answered `MISSING` although it runs, so every task is
//! placed against the stack's [`Watched`] clusters before anyone asks.

use std::fmt;

/// A task ARN's parts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskArn<'a> {
    pub partition: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    /// `None` for an old-format ARN.
    pub cluster: Option<&'a str>,
    pub id: &'a str,
}

impl<'a> TaskArn<'a> {
    /// Reads `arn`; `None` when it is not an ECS task ARN.
    pub fn parse(arn: &'a str) -> Option<TaskArn<'a>> {
        let (partition, region, account, resource) = ecs_arn(arn)?;
        let mut parts = resource.strip_prefix("task/")?.split('/');
        let (cluster, id) = match (parts.next(), parts.next(), parts.next()) {
            (Some(id), None, _) => (None, id),
            (Some(cluster), Some(id), None) => (Some(cluster), id),
            _ => return None,
        };
        let named = |part: &str| !part.is_empty();
        (named(region) && named(account) && named(id) && cluster.is_none_or(named)).then_some(
            TaskArn {
                partition,
                region,
                account,
                cluster,
                id,
            },
        )
    }
}

/// `arn:PARTITION:ecs:REGION:ACCOUNT:RESOURCE` as its four variable parts.
fn ecs_arn(arn: &str) -> Option<(&str, &str, &str, &str)> {
    let mut parts = arn.splitn(6, ':');
    let (prefix, partition, service) = (parts.next()?, parts.next()?, parts.next()?);
    let (region, account, resource) = (parts.next()?, parts.next()?, parts.next()?);
    (prefix == "arn" && partition.starts_with("aws") && service == "ecs")
        .then_some((partition, region, account, resource))
}

/// The clusters a stack watches: its `ClusterArn` (one cluster, or `cluster/*` for every
/// cluster of the stack's account and region).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Watched {
    pub partition: String,
    pub region: String,
    pub account: String,
    /// `None` when every cluster of the account and region is watched.
    pub cluster: Option<String>,
}

/// Where a task stands for this stack.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Placement<'a> {
    /// Ask ECS about it in this cluster (a name, as `DescribeTasks` takes it).
    Ask { cluster: &'a str },
    /// Another partition, region, account or cluster: never asked of this region, never
    /// closed. The reason names what differs.
    Outside(String),
    /// Not something ECS can be asked about from here (not a task ARN, or an old-format
    /// ARN while every cluster is watched), with why.
    Unreadable(String),
}

impl Watched {
    /// Reads a cluster ARN as the stack renders it (`...:cluster/NAME` or `...:cluster/*`).
    pub fn parse(cluster_arn: &str) -> Option<Watched> {
        let (partition, region, account, resource) = ecs_arn(cluster_arn)?;
        let name = resource.strip_prefix("cluster/")?;
        let named = |part: &str| !part.is_empty() && part != "*" && !part.contains('/');
        (named(region) && named(account) && (name == "*" || named(name))).then(|| Watched {
            partition: partition.to_owned(),
            region: region.to_owned(),
            account: account.to_owned(),
            cluster: (name != "*").then(|| name.to_owned()),
        })
    }

    /// Where `task_arn` stands: in a watched cluster (asked there), outside the stack, or
    /// unreadable. An old-format ARN names no cluster: it means the one cluster watched,
    /// and cannot be placed when every cluster is.
    pub fn place<'a>(&'a self, task_arn: &'a str) -> Placement<'a> {
        let Some(task) = TaskArn::parse(task_arn) else {
            return Placement::Unreadable(format!("{task_arn:?} is not an ECS task ARN"));
        };
        let here = [
            ("partition", task.partition, self.partition.as_str()),
            ("region", task.region, self.region.as_str()),
            ("account", task.account, self.account.as_str()),
        ];
        if let Some((what, theirs, ours)) = here.iter().find(|(_, theirs, ours)| theirs != ours) {
            return Placement::Outside(format!("its {what} is {theirs}, the stack's {ours}"));
        }
        match (task.cluster, &self.cluster) {
            (Some(cluster), None) => Placement::Ask { cluster },
            (Some(cluster), Some(ours)) if cluster == ours => Placement::Ask { cluster },
            (Some(cluster), Some(ours)) => Placement::Outside(format!(
                "its cluster is {cluster}, the stack watches {ours}"
            )),
            (None, Some(ours)) => Placement::Ask { cluster: ours },
            (None, None) => Placement::Unreadable(
                "an old-format task ARN names no cluster, and the stack watches every cluster"
                    .to_owned(),
            ),
        }
    }
}

impl fmt::Display for Watched {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Watched {
            partition,
            region,
            account,
            cluster,
        } = self;
        let name = cluster.as_deref().unwrap_or("*");
        write!(f, "arn:{partition}:ecs:{region}:{account}:cluster/{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ONE: &str = "arn:aws:ecs:us-east-1:311493921645:cluster/outpost-dev";
    const EVERY: &str = "arn:aws:ecs:us-east-1:311493921645:cluster/*";

    fn watched(arn: &str) -> Watched {
        Watched::parse(arn).unwrap()
    }

    #[test]
    fn task_arns_are_read_whole() {
        let arn = TaskArn::parse("arn:aws-cn:ecs:cn-north-1:1:task/c/0f9b").unwrap();
        assert_eq!(
            (arn.partition, arn.region, arn.account, arn.cluster, arn.id),
            ("aws-cn", "cn-north-1", "1", Some("c"), "0f9b")
        );
        let old = TaskArn::parse("arn:aws:ecs:us-east-1:1:task/0f9b").unwrap();
        assert_eq!((old.cluster, old.id), (None, "0f9b"));
        for odd in [
            "not an arn",
            "arn:aws:ecs:us-east-1:1:cluster/c",
            "arn:aws:ecs:us-east-1:1:task/",
            "arn:aws:ecs:us-east-1:1:task/c/",
            "arn:aws:ecs:us-east-1:1:task/a/b/c",
            "arn:aws:ecs::1:task/c/id",
            "arn:aws:lambda:us-east-1:1:task/c/id",
        ] {
            assert_eq!(TaskArn::parse(odd), None, "{odd}");
        }
    }

    #[test]
    fn a_watched_cluster_reads_back_as_written() {
        for arn in [ONE, EVERY] {
            assert_eq!(Watched::parse(arn).unwrap().to_string(), arn);
        }
        for odd in [
            "*",
            "arn:aws:ecs:us-east-1:311493921645:task/c/id",
            "arn:aws:ecs:*:311493921645:cluster/c",
        ] {
            assert_eq!(Watched::parse(odd), None, "{odd}");
        }
    }

    #[test]
    fn only_tasks_of_a_watched_cluster_here_are_asked() {
        let (one, every) = (watched(ONE), watched(EVERY));
        let ask = |cluster| Placement::Ask { cluster };
        let ours = "arn:aws:ecs:us-east-1:311493921645:task/outpost-dev/abc";
        assert_eq!(one.place(ours), ask("outpost-dev"));
        let other = "arn:aws:ecs:us-east-1:311493921645:task/other/abc";
        assert_eq!(every.place(other), ask("other"));
        for (foreign, differs) in [
            (
                "arn:aws:ecs:eu-west-1:311493921645:task/outpost-dev/abc",
                "region",
            ),
            (
                "arn:aws:ecs:us-east-1:999999999999:task/outpost-dev/abc",
                "account",
            ),
            (
                "arn:aws-cn:ecs:us-east-1:311493921645:task/outpost-dev/abc",
                "partition",
            ),
            (other, "cluster"),
        ] {
            let Placement::Outside(why) = one.place(foreign) else {
                panic!("{foreign} is outside the stack");
            };
            assert!(why.contains(differs), "{why}");
        }
    }

    #[test]
    fn an_old_format_arn_means_the_one_cluster_watched() {
        let old = "arn:aws:ecs:us-east-1:311493921645:task/abc";
        let ask = Placement::Ask {
            cluster: "outpost-dev",
        };
        assert_eq!(watched(ONE).place(old), ask);
        assert!(matches!(
            watched(EVERY).place(old),
            Placement::Unreadable(_)
        ));
        let container = "arn:aws:ecs:us-east-1:1:container/x";
        assert!(matches!(
            watched(ONE).place(container),
            Placement::Unreadable(_)
        ));
    }
}
