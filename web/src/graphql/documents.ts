import { gql } from '@urql/core';

/**
 * Every GraphQL operation the app sends. The build hashes each one into the trusted-documents
 * manifest (trusted-documents.ts), so an operation written anywhere else would be refused by a
 * gateway running with TRUSTED_DOCUMENTS=required: keep them all here.
 */

export const ME = gql`
  query Me {
    me {
      id
      username
      email
      roles
    }
  }
`;

export const SIGN_UP = gql`
  mutation SignUp($input: SignupInput!) {
    signup(input: $input) {
      jwt
      user {
        id
        username
        email
        roles
      }
    }
  }
`;

export const LOG_IN = gql`
  mutation LogIn($username: String!, $password: String!) {
    login(username: $username, password: $password) {
      jwt
      user {
        id
        username
        email
        roles
      }
    }
  }
`;

export const LOG_OUT = gql`
  mutation LogOut {
    logout
  }
`;

export const CATALOGUE = gql`
  query Catalogue($category: String, $search: String, $first: Int, $after: String) {
    courses(category: $category, search: $search, first: $first, after: $after) {
      id
      name
      category
      price
      cursor
      owner {
        id
        username
      }
    }
    categories
  }
`;

export const COURSE = gql`
  query Course($id: ID!) {
    course(id: $id) {
      id
      name
      info
      category
      price
      createdAt
      updatedAt
      owner {
        id
        username
      }
    }
  }
`;

/** What the signed-in person owns and attends (course page badges, My learning, the studio). */
export const MY_COURSES = gql`
  query MyCourses {
    me {
      id
      enrolledCourses {
        id
        name
        category
        price
        owner {
          id
          username
        }
      }
      ownedCourses {
        id
        name
        category
        price
        createdAt
      }
    }
  }
`;

export const BUY_COURSE = gql`
  mutation BuyCourse($courseId: ID!, $idempotencyKey: String) {
    buyCourse(courseId: $courseId, idempotencyKey: $idempotencyKey) {
      message
      alreadyOwned
      course {
        id
      }
    }
  }
`;

export const JOIN_LOBBY = gql`
  mutation JoinLobby($category: String!) {
    joinLobby(category: $category) {
      message
      course {
        id
        name
      }
    }
  }
`;

export const CREATE_COURSE = gql`
  mutation CreateCourse($input: CreateCourseInput!) {
    createCourse(input: $input) {
      id
      name
    }
  }
`;

export const UPDATE_COURSE = gql`
  mutation UpdateCourse($id: ID!, $input: UpdateCourseInput!) {
    updateCourse(id: $id, input: $input) {
      id
      name
      info
      category
      price
      updatedAt
    }
  }
`;

export const DELETE_COURSE = gql`
  mutation DeleteCourse($id: ID!) {
    deleteCourse(id: $id) {
      id
      message
    }
  }
`;

export const COURSE_CREATED = gql`
  subscription CourseCreated($category: String) {
    courseCreated(category: $category) {
      id
      name
    }
  }
`;

export const COURSE_UPDATED = gql`
  subscription CourseUpdated($id: ID) {
    courseUpdated(id: $id) {
      id
      name
      info
      category
      price
      updatedAt
    }
  }
`;

export const COURSE_DELETED = gql`
  subscription CourseDeleted {
    courseDeleted {
      id
    }
  }
`;

export const MY_NOTIFICATIONS = gql`
  subscription MyNotifications {
    myNotifications {
      kind
      courseId
      text
      createdAt
    }
  }
`;
